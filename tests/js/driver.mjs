// The official Replicate JavaScript client (npm `replicate`), unchanged, against a
// Replicate-compatible server. tests/test_js_client.py starts the sandbox and runs:
//
//   REPLICATE_API_TOKEN=... node driver.mjs BASE_URL CASE [CASE ...]
//
// Each case prints one JSON line {"case": NAME, ...facts} (or {"case", "error"} when the
// client threw), so the Python side asserts on what the client really got back. The
// `cancel` case prints {"case": "cancel", "created": ID} first and then waits for one
// line on stdin: the test sends it once the sandbox shows the run is producing output.
// Inputs that are files are read from paths in the environment (IMAGE_PATH).

import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import Replicate from "replicate";

const [baseUrl, ...cases] = process.argv.slice(2);
const replicate = new Replicate({ auth: process.env.REPLICATE_API_TOKEN, baseUrl });

/** What a thrown error says: the HTTP status and the problem detail when it is an ApiError. */
async function failure(error) {
  const out = { message: String(error.message).split("\n")[0] };
  if (error.response) {
    out.status = error.response.status;
    try {
      out.body = JSON.parse(await error.response.clone().text());
    } catch {
      // the body was read already by the client; the message carries it
      const match = /: (\{.*\})\.$/s.exec(error.message);
      if (match) out.body = JSON.parse(match[1]);
    }
  }
  return out;
}

async function latestVersion(model) {
  const found = await replicate.models.get(...model.split("/"));
  return found.latest_version.id;
}

async function image() {
  return readFile(process.env.IMAGE_PATH);
}

/** One line from stdin: the test's go-ahead. */
function nextLine() {
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve) => {
    lines.once("line", (line) => {
      lines.close();
      process.stdin.destroy(); // an open stdin would keep node alive
      resolve(line);
    });
  });
}

const CASES = {
  // an official model runs by name (POST /models/{owner}/{name}/predictions)
  async run_official() {
    return { output: await replicate.run("rshell/echo", { input: { text: "hello", times: 2 } }) };
  },

  // a versioned model by name: Replicate answers 404 on the models endpoint
  async run_versioned_by_name() {
    await replicate.run("rshell/pixels", { input: { prompt: "dusk", width: 16, height: 16 } });
    return { output: "ran, but Replicate refuses this" };
  },

  // ... and runs by owner/name:version (POST /predictions)
  async run_versioned() {
    const version = await latestVersion("rshell/pixels");
    const input = { prompt: "dusk", width: 16, height: 16, num_outputs: 2 };
    return { version, output: await replicate.run(`rshell/pixels:${version}`, { input }) };
  },

  // a streaming model: the SSE events as the client parsed them, then the stored run
  async stream() {
    const events = [];
    const input = { prompt: "the", max_tokens: 6, seed: 1 };
    for await (const event of replicate.stream("rshell/tinylm", { input })) {
      events.push({ event: event.event, data: event.data, text: String(event) });
    }
    const latest = (await replicate.predictions.list()).results[0];
    return { events, prediction: { id: latest.id, status: latest.status, output: latest.output } };
  },

  // a Buffer input: the client uploads it (files API) and sends its URL
  async file_input() {
    const version = await latestVersion("rshell/upscale");
    const seen = [];
    const output = await replicate.run(
      `rshell/upscale:${version}`,
      { input: { image: await image(), scale: 2 } },
      (prediction) => seen.push({ status: prediction.status, image: prediction.input?.image }),
    );
    const files = (await replicate.files.list()).results;
    return { output, sent: seen[0]?.image, files: files.map((f) => ({ id: f.id, size: f.size, urls: f.urls })) };
  },

  // files.create (a named Blob with metadata, and a bare Buffer), get, list, delete
  async files() {
    const bytes = await image();
    const blob = new Blob([bytes], { type: "image/png" });
    const named = new File([blob], "green.png", { type: "image/png" });
    const created = await replicate.files.create(named, { purpose: "js-test", n: 1 });
    const buffer = await replicate.files.create(bytes);
    const got = await replicate.files.get(created.id);
    const listed = (await replicate.files.list()).results.map((f) => f.id);
    const deleted = await replicate.files.delete(created.id);
    let after;
    try {
      after = { file: await replicate.files.get(created.id) };
    } catch (error) {
      after = { error: await failure(error) };
    }
    const remaining = (await replicate.files.list()).results.map((f) => f.id);
    return { created, buffer, got, listed, deleted, after, remaining };
  },

  // cancel a running prediction: created here, canceled when the test says it runs
  async cancel() {
    const created = await replicate.predictions.create({
      model: "rshell/tinylm",
      input: { prompt: "go", max_tokens: 512 },
    });
    console.log(JSON.stringify({ case: "cancel", created: created.id }));
    await nextLine();
    const before = await replicate.predictions.get(created.id);
    const canceled = await replicate.predictions.cancel(created.id);
    return { id: created.id, before: before.status, canceled: canceled.status };
  },
};

for (const name of cases) {
  const run = CASES[name];
  let result;
  if (!run) {
    result = { error: { message: `unknown case ${name}; known: ${Object.keys(CASES).join(", ")}` } };
  } else {
    try {
      result = await run();
    } catch (error) {
      result = { error: await failure(error) };
    }
  }
  console.log(JSON.stringify({ case: name, ...result }));
}
