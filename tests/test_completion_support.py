"""Shared by the completion tests: Cog-style schemas and a respx-mocked API.

The schemas are shaped the way Cog publishes them (`components.schemas.Input` with
`x-order`, enums as `allOf: [$ref]`, defaults, descriptions, uri inputs, a
`TrainingInput`), and the API answers follow `replicate-openapi.json`, so the engine
is tested against what it will really read. A real `ReplicateClient` talks to the mock.
(This module holds no tests itself.)
"""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

from rshell.client.api import ReplicateClient
from rshell.completion.cache import CompletionCache
from rshell.completion.engine import CompletionEngine
from rshell.completion.refresher import Refresher
from rshell.session.state import Session

BASE = "https://api.replicate.com/v1"
TOKEN = "r8_fake-completiontesttoken"
SDXL_VERSION = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"
SDXL_OLD_VERSION = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
FLUX_VERSION = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
TRAINER_VERSION = "b1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"


def cog_schema(
    inputs: dict[str, Any],
    required: list[str],
    enums: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An openapi_schema as Cog generates it for a predictor."""
    schemas: dict[str, Any] = {
        "Input": {"type": "object", "title": "Input", "required": required, "properties": inputs},
        "Output": {"type": "array", "items": {"type": "string", "format": "uri"}, "title": "Output"},
        "Status": {
            "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
            "type": "string",
            "title": "Status",
        },
    }
    schemas.update(enums or {})
    if training is not None:
        schemas["TrainingInput"] = {"type": "object", "title": "TrainingInput", "required": [], "properties": training}
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {"/predictions": {"post": {"summary": "Predict", "operationId": "predict_predictions_post"}}},
        "components": {"schemas": schemas},
    }


# Properties deliberately not written in x-order: completion must sort them.
SDXL_SCHEMA = cog_schema(
    {
        "width": {
            "type": "integer",
            "title": "Width",
            "default": 1024,
            "x-order": 3,
            "description": "Width of output image",
        },
        "prompt": {"type": "string", "title": "Prompt", "x-order": 0, "description": "Input prompt"},
        "image": {
            "type": "string",
            "format": "uri",
            "title": "Image",
            "x-order": 2,
            "description": "Input image for img2img mode",
        },
        "negative_prompt": {
            "type": "string",
            "title": "Negative Prompt",
            "default": "",
            "x-order": 1,
            "description": "Things to leave out",
        },
        "scheduler": {
            "allOf": [{"$ref": "#/components/schemas/scheduler"}],
            "default": "K_EULER",
            "x-order": 4,
            "description": "scheduler",
        },
        "num_inference_steps": {
            "type": "integer",
            "title": "Num Inference Steps",
            "default": 50,
            "minimum": 1,
            "maximum": 500,
            "x-order": 5,
            "description": "Number of denoising steps",
        },
        "refine": {
            "allOf": [{"$ref": "#/components/schemas/refine"}],
            "default": "no_refiner",
            "x-order": 6,
            "description": "Which refine style to use",
        },
        "apply_watermark": {
            "type": "boolean",
            "title": "Apply Watermark",
            "default": True,
            "x-order": 7,
            "description": "Applies a watermark",
        },
    },
    required=["prompt"],
    enums={
        "scheduler": {
            "enum": ["DDIM", "DPMSolverMultistep", "HeunDiscrete", "K_EULER_ANCESTRAL", "K_EULER", "PNDM"],
            "type": "string",
            "title": "scheduler",
            "description": "An enumeration.",
        },
        "refine": {
            "enum": ["no_refiner", "expert_ensemble_refiner", "base_image_refiner"],
            "type": "string",
            "title": "refine",
            "description": "An enumeration.",
        },
    },
)
SDXL_ORDER = [
    "prompt",
    "negative_prompt",
    "image",
    "width",
    "scheduler",
    "num_inference_steps",
    "refine",
    "apply_watermark",
]

# An older version with other inputs: `owner/name:version` must use this one.
SDXL_OLD_SCHEMA = cog_schema(
    {
        "prompt": {"type": "string", "x-order": 0, "description": "Input prompt"},
        "seed": {"type": "integer", "x-order": 1, "description": "Random seed"},
    },
    required=["prompt"],
)

TRAINER_SCHEMA = cog_schema(
    {"prompt": {"type": "string", "x-order": 0}},
    required=["prompt"],
    training={
        "input_images": {"type": "string", "format": "uri", "x-order": 0, "description": "A zip of training images"},
        "steps": {"type": "integer", "default": 1000, "x-order": 1, "description": "Training steps"},
        "lora_rank": {"type": "integer", "default": 16, "x-order": 2, "description": "LoRA rank"},
    },
)


def model_json(
    owner: str,
    name: str,
    run_count: int,
    description: str,
    version: str | None = None,
    schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A model object as `GET /models/{owner}/{name}` returns it."""
    latest = None
    if version:
        latest = {
            "id": version,
            "created_at": "2024-06-01T10:00:00.000000Z",
            "cog_version": "0.9.6",
            "openapi_schema": copy.deepcopy(schema),
        }
    return {
        "url": f"https://replicate.com/{owner}/{name}",
        "owner": owner,
        "name": name,
        "description": description,
        "visibility": "public",
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "run_count": run_count,
        "cover_image_url": None,
        "default_example": None,
        "latest_version": latest,
    }


MODELS = [
    model_json("stability-ai", "sdxl", 76_000_000, "A text-to-image generative AI model", SDXL_VERSION, SDXL_SCHEMA),
    model_json("stability-ai", "stable-diffusion", 110_000_000, "A latent text-to-image diffusion model"),
    model_json(
        "black-forest-labs",
        "flux-schnell",
        300_000_000,
        "The fastest image generation model",
        FLUX_VERSION,
        SDXL_OLD_SCHEMA,
    ),
    model_json("meta", "meta-llama-3-8b-instruct", 5_000_000, "An 8 billion parameter language model"),
    model_json("alice", "my-trainer", 12, "Alice's LoRA trainer", TRAINER_VERSION, TRAINER_SCHEMA),
]
SEARCH = {
    "sdxl": ["stability-ai/sdxl"],
    "stab": ["stability-ai/sdxl", "stability-ai/stable-diffusion"],
    "llama": ["meta/meta-llama-3-8b-instruct"],
}


def page(results: list[Any], next_url: str | None = None) -> dict[str, Any]:
    return {"previous": None, "next": next_url, "results": results}


def run_json(kind: str, run_id: str, model: str, status: str, version: str = SDXL_VERSION) -> dict[str, Any]:
    """A prediction or training object as the list endpoints return them."""
    return {
        "id": run_id,
        "model": model,
        "version": version,
        "input": {"prompt": "a fox"},
        "output": None,
        "logs": "",
        "error": None,
        "status": status,
        "source": "api",
        "data_removed": False,
        "created_at": "2024-06-02T08:30:00.000000Z",
        "started_at": None,
        "completed_at": None,
        "urls": {
            "get": f"{BASE}/{kind}/{run_id}",
            "cancel": f"{BASE}/{kind}/{run_id}/cancel",
            "web": f"https://replicate.com/p/{run_id}",
        },
    }


@dataclass
class FakeApi:
    """Routes of a respx router serving the data above; `gate` can hold a route back."""

    router: respx.MockRouter
    calls: list[str] = field(default_factory=list)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    _arrival: asyncio.Event | None = None

    async def requested(self, name: str, hang: float = 30.0) -> None:
        """Return once `name` has been requested: that request is now inside the API.
        `hang` only bounds a hang (the request never coming fails the test)."""
        async with asyncio.timeout(hang):
            while name not in self.calls:
                self._arrival = asyncio.Event()
                await self._arrival.wait()

    async def _respond(self, name: str, body: Any, status: int = 200) -> httpx.Response:
        self.calls.append(name)
        if self._arrival is not None:
            self._arrival.set()
        gate = self.gates.get(name)
        if gate is not None:
            await gate.wait()
        return httpx.Response(status, json=body)


def install_api(router: respx.MockRouter) -> FakeApi:
    """Serve the models, versions, hardware, runs, deployments, files, collections."""
    api = FakeApi(router)
    by_name = {f"{m['owner']}/{m['name']}": m for m in MODELS}

    async def search(request: httpx.Request) -> httpx.Response:
        query = request.content.decode()
        names = SEARCH.get(query, [n for n in by_name if query in n])
        return await api._respond(f"search:{query}", page([by_name[n] for n in names]))

    async def get_model(request: httpx.Request, owner: str, name: str) -> httpx.Response:
        found = by_name.get(f"{owner}/{name}")
        if found is None:
            return await api._respond(f"model:{owner}/{name}", {"status": 404, "detail": "Not found"}, 404)
        return await api._respond(f"model:{owner}/{name}", found)

    async def versions(request: httpx.Request, owner: str, name: str) -> httpx.Response:
        results = [
            {
                "id": SDXL_VERSION,
                "created_at": "2024-06-01T10:00:00.000000Z",
                "cog_version": "0.9.6",
                "openapi_schema": SDXL_SCHEMA,
            },
            {
                "id": SDXL_OLD_VERSION,
                "created_at": "2023-07-26T17:00:00.000000Z",
                "cog_version": "0.8.1",
                "openapi_schema": SDXL_OLD_SCHEMA,
            },
        ]
        return await api._respond(f"versions:{owner}/{name}", page(results))

    async def version(request: httpx.Request, owner: str, name: str, vid: str) -> httpx.Response:
        schema = {SDXL_VERSION: SDXL_SCHEMA, SDXL_OLD_VERSION: SDXL_OLD_SCHEMA}.get(vid)
        body = {
            "id": vid,
            "created_at": "2023-07-26T17:00:00.000000Z",
            "cog_version": "0.8.1",
            "openapi_schema": schema,
        }
        return await api._respond(f"version:{owner}/{name}:{vid}", body)

    def simple(name: str, body: Any) -> Any:
        async def effect(request: httpx.Request) -> httpx.Response:
            return await api._respond(name, body)

        return effect

    router.route(method="QUERY", url=f"{BASE}/models").mock(side_effect=search)
    router.get(f"{BASE}/models").mock(side_effect=simple("models", page(MODELS[:3])))
    router.get(url__regex=rf"{BASE}/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/versions/(?P<vid>[^/]+)$").mock(
        side_effect=version
    )
    router.get(url__regex=rf"{BASE}/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/versions$").mock(side_effect=versions)
    router.get(url__regex=rf"{BASE}/models/(?P<owner>[^/]+)/(?P<name>[^/]+)$").mock(side_effect=get_model)
    router.get(f"{BASE}/hardware").mock(
        side_effect=simple(
            "hardware",
            [
                {"name": "CPU", "sku": "cpu"},
                {"name": "Nvidia T4 GPU", "sku": "gpu-t4"},
                {"name": "Nvidia A40 (Large) GPU", "sku": "gpu-a40-large"},
                {"name": "Nvidia L40S GPU", "sku": "gpu-l40s"},
            ],
        )
    )
    router.get(f"{BASE}/predictions").mock(
        side_effect=simple(
            "predictions",
            page(
                [
                    run_json(
                        "predictions", "ufawqhfynnddngldkgtslldrkq", "black-forest-labs/flux-schnell", "succeeded"
                    ),
                    run_json("predictions", "rrr4z55ocneqzikepnug6xezpe", "stability-ai/sdxl", "failed"),
                ]
            ),
        )
    )
    router.get(f"{BASE}/trainings").mock(
        side_effect=simple(
            "trainings",
            page(
                [run_json("trainings", "zz4ibbonubfz7carwiefibzgga", "alice/my-trainer", "processing", TRAINER_VERSION)]
            ),
        )
    )
    router.get(f"{BASE}/deployments").mock(
        side_effect=simple(
            "deployments",
            page(
                [
                    {
                        "owner": "alice",
                        "name": "fast-sdxl",
                        "current_release": {
                            "number": 3,
                            "model": "stability-ai/sdxl",
                            "version": SDXL_VERSION,
                            "created_at": "2024-06-01T10:00:00Z",
                            "created_by": {"type": "user", "username": "alice"},
                            "configuration": {"hardware": "gpu-a40-large", "min_instances": 0, "max_instances": 2},
                        },
                    }
                ]
            ),
        )
    )
    router.get(f"{BASE}/files").mock(
        side_effect=simple(
            "files",
            page(
                [
                    {
                        "id": "cneqzikepnug6xezperrr4z55o",
                        "name": "data.zip",
                        "content_type": "application/zip",
                        "size": 1024,
                        "checksums": {"sha256": "ab" * 32},
                        "metadata": {},
                        "created_at": "2024-02-21T12:54:18.578761Z",
                        "expires_at": "2024-02-22T12:54:18.578761Z",
                        "urls": {"get": f"{BASE}/files/cneqzikepnug6xezperrr4z55o"},
                    }
                ]
            ),
        )
    )
    router.get(f"{BASE}/collections").mock(
        side_effect=simple(
            "collections",
            page(
                [
                    {
                        "name": "Text to image",
                        "slug": "text-to-image",
                        "description": "Models that generate images from text prompts",
                    },
                    {
                        "name": "Language models",
                        "slug": "language-models",
                        "description": "Models that understand and generate text",
                    },
                ]
            ),
        )
    )
    router.get(f"{BASE}/account").mock(
        side_effect=simple(
            "account", {"type": "user", "username": "alice", "name": "Alice", "github_url": "https://github.com/alice"}
        )
    )
    return api


@dataclass
class Rig:
    """An engine whose refresher fetches through a real client from the mocked API."""

    engine: CompletionEngine
    refresher: Refresher
    cache: CompletionCache
    session: Session
    api: FakeApi
    client: ReplicateClient
    updates: list[int]

    def texts(self, line: str) -> list[str]:
        return [c.text for c in self.engine.complete(line)]

    async def settle(self, line: str) -> list[str]:
        """Complete once (scheduling fetches), wait for them, complete again."""
        self.engine.complete(line)
        assert await self.refresher.drain(5), "fetches did not finish"
        return self.texts(line)


def make_rig(router: respx.MockRouter, session: Session | None = None, cache: CompletionCache | None = None) -> Rig:
    """Must be called with an event loop running (the refresher uses it)."""
    api = install_api(router)
    client = ReplicateClient(TOKEN, BASE, max_retries=0)
    cache = cache if cache is not None else CompletionCache()
    session = session if session is not None else Session()

    async def get_client() -> ReplicateClient:
        return client

    refresher = Refresher(get_client, cache)
    refresher.debounce = 0.01
    updates: list[int] = []
    refresher.on_update = lambda: updates.append(1)
    return Rig(CompletionEngine(cache, session, refresher), refresher, cache, session, api, client, updates)


class HeldPause:
    """The refresher's debounce timer, held by the test: the search starts only when the
    test calls `pause()` (the user stops typing), however slowly keystrokes are handled.
    `delays` are the debounce times the refresher asked for. Needs the loop running."""

    def __init__(self, refresher: Refresher) -> None:
        self.delays: list[float] = []
        self._held: list[tuple[asyncio.Handle, Any]] = []
        loop = asyncio.get_running_loop()
        real = loop.call_later

        def call_later(delay: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
            if callback != refresher._debounced:
                return real(delay, callback, *args, **kwargs)
            handle = asyncio.Handle(callback, args, loop)
            self.delays.append(delay)
            self._held.append((handle, callback))
            return handle

        loop.call_later = call_later  # type: ignore[method-assign]

    def pause(self) -> None:
        """The pause in typing: run what the refresher has not cancelled since."""
        held, self._held = self._held, []
        for handle, callback in held:
            if not handle.cancelled():
                callback()


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
