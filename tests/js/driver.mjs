// The official Replicate JavaScript client (npm `replicate`), unchanged, against a
// Replicate-compatible server. tests/test_js_client.py starts the sandbox and runs:
//
//   REPLICATE_API_TOKEN=... node driver.mjs BASE_URL CASE [CASE ...]
//
// Each case prints one JSON line {"case": NAME, ...facts} (or {"case", "error"} when the
// client threw), so the Python side asserts on what the client really got back. The
// `cancel` and `train` cases print {"case": NAME, "created": ID} first and then wait for
// one line on stdin: the test sends it once the sandbox shows the run got that far
// (its first token; its end). File inputs come from paths in the environment
// (IMAGE_PATH, ARCHIVE_PATH).

import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import Replicate, { validateWebhook } from "replicate";

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

/** Tell the test what was created, then wait for its one-line go-ahead on stdin. */
function handshake(name, id) {
  console.log(JSON.stringify({ case: name, created: id }));
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve) => {
    lines.once("line", (line) => {
      lines.close();
      process.stdin.destroy(); // an open stdin would keep node alive
      resolve(line);
    });
  });
}

/** A one-request HTTP receiver on loopback: its port once listening, then what it got. */
function receiveOne() {
  let deliver;
  const delivered = new Promise((resolve) => {
    deliver = resolve;
  });
  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      response.end();
      server.close();
      deliver({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
    });
  });
  const listening = new Promise((ready) => server.listen(0, "127.0.0.1", () => ready(server.address().port)));
  return { listening, delivered };
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

  // a versioned model has its versions list; an official one a schema but no versions list
  async models() {
    const pixels = await replicate.models.get("rshell", "pixels");
    const versions = (await replicate.models.versions.list("rshell", "pixels")).results;
    const version = await replicate.models.versions.get("rshell", "pixels", pixels.latest_version.id);
    const tinylm = await replicate.models.get("rshell", "tinylm");
    let official;
    try {
      official = { versions: await replicate.models.versions.list("rshell", "tinylm") };
    } catch (error) {
      official = { error: await failure(error) };
    }
    const inputs = (model) => Object.keys(model.latest_version.openapi_schema.components.schemas.Input.properties);
    return {
      latest: pixels.latest_version.id,
      versions: versions.map((v) => v.id),
      version: version.id,
      inputs: { pixels: inputs(pixels), tinylm: inputs(tinylm) },
      official,
    };
  },

  // run() of a streaming model waits and returns its tokens
  async run_streaming_model() {
    return { output: await replicate.run("rshell/tinylm", { input: { prompt: "a", max_tokens: 4, seed: 3 } }) };
  },

  // a bad input is 422 before any run; a missing model 404; a model's failure throws,
  // from run() and from a stream (its `error` event)
  async errors() {
    const attempt = async (call) => {
      try {
        return { value: await call() };
      } catch (error) {
        return { error: await failure(error) };
      }
    };
    const version = await latestVersion("rshell/upscale");
    return {
      invalid: await attempt(() => replicate.run("rshell/echo", { input: { text: "x", times: 99 } })),
      missing: await attempt(() => replicate.models.get("rshell", "missing")),
      failed: await attempt(() =>
        replicate.run(`rshell/upscale:${version}`, { input: { image: "data:image/png;base64,bm90IGEgcG5n" } }),
      ),
      streamed: await attempt(async () => {
        const image = "data:image/png;base64,bm90IGEgcG5n";
        const events = [];
        for await (const event of replicate.stream(`rshell/upscale:${version}`, { input: { image } })) {
          events.push(event.event);
        }
        return events;
      }),
      predictions: (await replicate.predictions.list()).results.map((p) => p.status),
    };
  },

  // every page of models.list through replicate.paginate (the test makes pages small)
  async paginate() {
    const pages = [];
    for await (const page of replicate.paginate(replicate.models.list)) {
      pages.push(page.map((m) => `${m.owner}/${m.name}`));
    }
    return { pages };
  },

  // a deployment: create, run through it, update, list, delete
  async deployment() {
    const version = await latestVersion("rshell/pixels");
    const created = await replicate.deployments.create({
      name: "echoer",
      model: "rshell/pixels",
      version,
      hardware: "cpu",
      min_instances: 0,
      max_instances: 1,
    });
    let prediction = await replicate.deployments.predictions.create("sandbox", "echoer", {
      input: { prompt: "via deployment", width: 16, height: 16 },
      wait: true,
    });
    prediction = await replicate.wait(prediction, { interval: 50 }); // at once when the wait window sufficed
    const updated = await replicate.deployments.update("sandbox", "echoer", { max_instances: 3 });
    const listed = (await replicate.deployments.list()).results.map((d) => d.name);
    const deleted = await replicate.deployments.delete("sandbox", "echoer");
    return {
      release: created.current_release.number,
      prediction: { status: prediction.status, output: prediction.output },
      updated: { release: updated.current_release.number, max: updated.current_release.configuration.max_instances },
      listed,
      deleted,
    };
  },

  // train into a model of one's own from a zip of images, then run the new version
  async train() {
    await replicate.models.create("sandbox", "palette", { visibility: "private", hardware: "cpu" });
    const trainer = await latestVersion("rshell/palette-trainer");
    const archive = await readFile(process.env.ARCHIVE_PATH);
    const upload = await replicate.files.create(new Blob([archive], { type: "application/zip" }));
    const created = await replicate.trainings.create("rshell", "palette-trainer", trainer, {
      destination: "sandbox/palette",
      input: { input_images: upload.urls.get, steps: 2 },
    });
    await handshake("train", created.id); // the test waits for the training's end
    const training = await replicate.trainings.get(created.id);
    const latest = (await replicate.models.get("sandbox", "palette")).latest_version?.id;
    const made = training.output?.version;
    const output = made ? await replicate.run(made, { input: { prompt: "x", width: 16, height: 16 } }) : null;
    return { training: { status: training.status, destination: training.destination, output: training.output }, latest, output };
  },

  // the read-only catalogue: search (QUERY /models), hardware, account, collections, secret
  async catalog() {
    const names = (models) => models.map((m) => `${m.owner}/${m.name}`);
    const collection = await replicate.collections.get("language-models");
    return {
      search: names((await replicate.models.search("pixels")).results),
      hardware: (await replicate.hardware.list()).map((h) => h.sku),
      account: (await replicate.accounts.current()).username,
      collections: (await replicate.collections.list()).results.map((c) => c.slug),
      collection: names(collection.models),
      secret: (await replicate.webhooks.default.secret.get()).key,
    };
  },

  // a webhook the sandbox delivers, checked by the client's own validateWebhook
  async webhook() {
    const { listening, delivered } = receiveOne();
    const port = await listening;
    const created = await replicate.predictions.create({
      model: "rshell/echo",
      input: { text: "hook" },
      webhook: `http://127.0.0.1:${port}/hook`,
      webhook_events_filter: ["completed"],
    });
    const delivery = await delivered;
    const { key } = await replicate.webhooks.default.secret.get();
    const body = JSON.parse(delivery.body);
    const request = new Request("http://receiver/hook", { method: "POST", headers: delivery.headers, body: delivery.body });
    const valid = await validateWebhook(request, key);
    const forged = await validateWebhook({
      id: delivery.headers["webhook-id"],
      timestamp: delivery.headers["webhook-timestamp"],
      signature: delivery.headers["webhook-signature"],
      body: `${delivery.body} `,
      secret: key,
    });
    return { id: created.id, valid, forged, delivered: { id: body.id, status: body.status, output: body.output } };
  },

  // cancel a running prediction: created here, canceled when the test says it runs
  async cancel() {
    const created = await replicate.predictions.create({
      model: "rshell/tinylm",
      input: { prompt: "go", max_tokens: 512 },
    });
    await handshake("cancel", created.id); // the test waits for the first token
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
