"""Realistic API response bodies, shaped exactly like the official OpenAPI schemas.

Every function returns a fresh dict (tests may mutate it), with keyword overrides
merged on top. `base` is the API root the URLs point at, so the same bodies serve
respx mocks of api.replicate.com and tests against a local server.

Other test modules import these: keep the shapes faithful to
`rshell/openapi.json`, the derived copy of the official description
(schemas_prediction_response, …).
"""

from __future__ import annotations

import copy
from typing import Any

BASE = "https://api.replicate.com/v1"
VERSION_ID = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
LLM_VERSION_ID = "c8d1a0b4e7a54a32b0a44e6b5a4e3c7a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c"
PREDICTION_ID = "gm3qorzdhgbfurvjtvhg6dckhu"
TRAINING_ID = "zz4ibbonubfz7carwiefibzgga"
FILE_ID = "cneqzikepnug6xezperrr4z55o"
STATUSES = ("starting", "processing", "succeeded", "failed", "canceled", "aborted")


def _merge(body: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(body)
    out.update(overrides)
    return out


def problem(status: int, detail: str, title: str | None = None, **extra: Any) -> dict[str, Any]:
    """An application/problem+json error body, as the API sends for 4xx/5xx."""
    titles = {401: "Unauthenticated", 404: "Not found", 422: "Input validation failed", 429: "Request was throttled"}
    body = {"type": "about:blank", "title": title or titles.get(status, "Error"), "status": status, "detail": detail}
    body.update(extra)
    return body


def account(**overrides: Any) -> dict[str, Any]:
    body = {
        "type": "user",
        "username": "alice",
        "name": "Alice Example",
        "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4",
        "github_url": "https://github.com/alice",
    }
    return _merge(body, overrides)


def hardware_list() -> list[dict[str, Any]]:
    return [
        {"name": "CPU", "sku": "cpu"},
        {"name": "Nvidia T4 GPU", "sku": "gpu-t4"},
        {"name": "Nvidia L40S GPU", "sku": "gpu-l40s"},
        {"name": "Nvidia A100 (80GB) GPU", "sku": "gpu-a100-large"},
        {"name": "2x Nvidia H100 GPU", "sku": "gpu-2x-h100"},
    ]


def cog_image_schema() -> dict[str, Any]:
    """A Cog openapi_schema of an image model: enum as an allOf $ref, x-order, bounds."""
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {
            "/predictions": {
                "post": {
                    "summary": "Predict",
                    "operationId": "predict_predictions_post",
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictionRequest"}}}
                    },
                    "responses": {
                        "200": {
                            "description": "Successful Response",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/PredictionResponse"}}
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Input": {
                    "type": "object",
                    "title": "Input",
                    "required": ["prompt"],
                    "properties": {
                        "prompt": {"type": "string", "title": "Prompt", "x-order": 0, "description": "Input prompt"},
                        "negative_prompt": {
                            "type": "string",
                            "title": "Negative Prompt",
                            "default": "",
                            "x-order": 1,
                            "description": "Things to leave out",
                        },
                        "image": {
                            "type": "string",
                            "title": "Image",
                            "format": "uri",
                            "x-order": 2,
                            "description": "Input image for img2img",
                        },
                        "width": {
                            "type": "integer",
                            "title": "Width",
                            "default": 1024,
                            "minimum": 256,
                            "maximum": 2048,
                            "x-order": 3,
                        },
                        "height": {
                            "type": "integer",
                            "title": "Height",
                            "default": 1024,
                            "minimum": 256,
                            "maximum": 2048,
                            "x-order": 4,
                        },
                        "num_outputs": {
                            "type": "integer",
                            "title": "Num Outputs",
                            "default": 1,
                            "minimum": 1,
                            "maximum": 4,
                            "x-order": 5,
                        },
                        "scheduler": {
                            "allOf": [{"$ref": "#/components/schemas/scheduler"}],
                            "default": "K_EULER",
                            "x-order": 6,
                            "description": "scheduler",
                        },
                        "guidance_scale": {
                            "type": "number",
                            "title": "Guidance Scale",
                            "default": 7.5,
                            "minimum": 1,
                            "maximum": 50,
                            "x-order": 7,
                        },
                        "apply_watermark": {
                            "type": "boolean",
                            "title": "Apply Watermark",
                            "default": True,
                            "x-order": 8,
                        },
                        "seed": {
                            "type": "integer",
                            "title": "Seed",
                            "x-order": 9,
                            "description": "Random seed. Leave blank to randomize",
                        },
                    },
                },
                "scheduler": {
                    "title": "scheduler",
                    "description": "An enumeration.",
                    "enum": ["DDIM", "DPMSolverMultistep", "HeunDiscrete", "K_EULER", "K_EULER_ANCESTRAL", "PNDM"],
                    "type": "string",
                },
                "Output": {"type": "array", "title": "Output", "items": {"type": "string", "format": "uri"}},
                "Status": {
                    "title": "Status",
                    "description": "An enumeration.",
                    "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
                    "type": "string",
                },
                "PredictionRequest": {
                    "title": "PredictionRequest",
                    "type": "object",
                    "properties": {
                        "id": {"title": "Id", "type": "string"},
                        "input": {"$ref": "#/components/schemas/Input"},
                    },
                },
                "PredictionResponse": {
                    "title": "PredictionResponse",
                    "type": "object",
                    "properties": {
                        "id": {"title": "Id", "type": "string"},
                        "output": {"$ref": "#/components/schemas/Output"},
                        "status": {"$ref": "#/components/schemas/Status"},
                        "logs": {"title": "Logs", "type": "string", "default": ""},
                    },
                },
            }
        },
    }


def cog_llm_schema() -> dict[str, Any]:
    """A Cog openapi_schema of a language model: a concatenate iterator output (streams)."""
    schema = cog_image_schema()
    schema["components"]["schemas"]["Input"] = {
        "type": "object",
        "title": "Input",
        "required": ["prompt"],
        "properties": {
            "prompt": {"type": "string", "title": "Prompt", "x-order": 0},
            "system_prompt": {
                "type": "string",
                "title": "System Prompt",
                "default": "You are a helpful assistant.",
                "x-order": 1,
            },
            "max_tokens": {
                "type": "integer",
                "title": "Max Tokens",
                "default": 512,
                "minimum": 1,
                "maximum": 4096,
                "x-order": 2,
            },
            "temperature": {
                "type": "number",
                "title": "Temperature",
                "default": 0.6,
                "minimum": 0,
                "maximum": 5,
                "x-order": 3,
            },
        },
    }
    del schema["components"]["schemas"]["scheduler"]
    schema["components"]["schemas"]["Output"] = {
        "type": "array",
        "title": "Output",
        "items": {"type": "string"},
        "x-cog-array-type": "iterator",
        "x-cog-array-display": "concatenate",
    }
    return schema


def version(version_id: str = VERSION_ID, *, llm: bool = False, **overrides: Any) -> dict[str, Any]:
    body = {
        "id": version_id,
        "created_at": "2024-05-14T09:31:20.918021Z",
        "cog_version": "0.9.6",
        "openapi_schema": cog_llm_schema() if llm else cog_image_schema(),
    }
    return _merge(body, overrides)


def model(owner: str = "stability-ai", name: str = "sdxl", *, llm: bool = False, **overrides: Any) -> dict[str, Any]:
    body = {
        "url": f"https://replicate.com/{owner}/{name}",
        "owner": owner,
        "name": name,
        "description": "A text-to-image generative AI model that creates beautiful images",
        "visibility": "public",
        "github_url": "https://github.com/Stability-AI/generative-models",
        "paper_url": "https://arxiv.org/abs/2307.01952",
        "license_url": "https://github.com/Stability-AI/generative-models/blob/main/model_licenses/LICENSE-SDXL1.0",
        "run_count": 75829102,
        "cover_image_url": "https://tjzk.replicate.delivery/models_models_cover_image/61004930-fb88-4e09-9bd4-74fd8b4aa677/sdxl_cover.png",
        "is_official": False,
        "default_example": None,
        "latest_version": version(LLM_VERSION_ID if llm else VERSION_ID, llm=llm),
    }
    return _merge(body, overrides)


def prediction(
    status: str = "succeeded", *, base: str = BASE, prediction_id: str = PREDICTION_ID, **overrides: Any
) -> dict[str, Any]:
    """A prediction in any status; terminal ones carry completed_at, failures an error."""
    done = status in ("succeeded", "failed", "canceled", "aborted")
    body: dict[str, Any] = {
        "id": prediction_id,
        "model": "stability-ai/sdxl",
        "version": VERSION_ID,
        "input": {"prompt": "an astronaut riding a horse", "width": 1024},
        "logs": "Using seed: 4223\n 50%|█████     | 25/50 [00:02<00:02, 11.2it/s]\n" if status != "starting" else "",
        "output": ["https://replicate.delivery/pbxt/abc123/out-0.png"] if status == "succeeded" else None,
        "data_removed": False,
        "error": "CUDA out of memory" if status == "failed" else None,
        "status": status,
        "source": "api",
        "created_at": "2024-05-14T10:00:00.000000Z",
        "urls": {
            "get": f"{base}/predictions/{prediction_id}",
            "cancel": f"{base}/predictions/{prediction_id}/cancel",
            "stream": f"https://stream.replicate.com/v1/files/{prediction_id}-stream",
            "web": f"https://replicate.com/p/{prediction_id}",
        },
    }
    if status != "starting":
        body["started_at"] = "2024-05-14T10:00:00.500000Z"
    if done:
        body["completed_at"] = "2024-05-14T10:00:04.200000Z"
        body["metrics"] = {"predict_time": 3.7, "total_time": 4.2}
    return _merge(body, overrides)


def training(
    status: str = "succeeded", *, base: str = BASE, training_id: str = TRAINING_ID, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": training_id,
        "model": "ostris/flux-dev-lora-trainer",
        "version": "d995297071a44dcb72244e6c19462111649ec86a9646c32df56daa7f14801944",
        "input": {"input_images": "https://example.com/images.zip", "steps": 1000},
        "logs": "" if status == "starting" else "step 100/1000 loss=0.12\n",
        "error": "training diverged" if status == "failed" else None,
        "status": status,
        "source": "api",
        "created_at": "2024-05-14T10:00:00.000000Z",
        "urls": {"get": f"{base}/trainings/{training_id}", "cancel": f"{base}/trainings/{training_id}/cancel"},
    }
    if status == "succeeded":  # the spec types output as an object, so it is absent until then
        body["output"] = {
            "version": f"alice/my-lora:{VERSION_ID}",
            "weights": "https://replicate.delivery/xezq/weights.tar",
        }
    if status in ("succeeded", "failed", "canceled", "aborted"):
        body["completed_at"] = "2024-05-14T10:20:00.000000Z"
        body["metrics"] = {"predict_time": 1180.2, "total_time": 1200.0}
    return _merge(body, overrides)


def deployment(owner: str = "alice", name: str = "my-app-image-generator", **overrides: Any) -> dict[str, Any]:
    body = {
        "owner": owner,
        "name": name,
        "current_release": {
            "number": 1,
            "model": "stability-ai/sdxl",
            "version": VERSION_ID,
            "created_at": "2024-02-15T16:32:57.018467Z",
            "created_by": account(),
            "configuration": {"hardware": "gpu-t4", "min_instances": 1, "max_instances": 5},
        },
    }
    return _merge(body, overrides)


def file(file_id: str = FILE_ID, *, base: str = BASE, **overrides: Any) -> dict[str, Any]:
    body = {
        "id": file_id,
        "name": "photo.png",
        "content_type": "image/png",
        "size": 69420,
        "etag": "e8b4e1b4a5b1f0e0a7c1c5b8d6c2f9a1",
        "checksums": {
            "sha256": "f047f8e745f9996c6e386064e06cb2007b8e6bc0a968a334fc0d2b2d64012066",
            "md5": "e8b4e1b4a5b1f0e0a7c1c5b8d6c2f9a1",
        },
        "metadata": {"customer_reference_id": 123},
        "created_at": "2024-02-21T12:54:18.578761Z",
        "expires_at": "2024-02-22T12:54:18.578761Z",
        "urls": {"get": f"{base}/files/{file_id}"},
    }
    return _merge(body, overrides)


def collection_list_item(slug: str = "text-to-image", **overrides: Any) -> dict[str, Any]:
    body = {"name": "Text to image", "slug": slug, "description": "Models that generate images from text prompts"}
    return _merge(body, overrides)


def collection(slug: str = "text-to-image", **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Text to image",
        "slug": slug,
        "description": "Models that generate images from text prompts",
        "full_description": "## Text to image\n\nGenerate images from a prompt.",
        "models": [model(), model("black-forest-labs", "flux-schnell")],
    }
    return _merge(body, overrides)


def search_response(query: str = "nano banana", **overrides: Any) -> dict[str, Any]:
    body = {
        "query": query,
        "models": [
            {
                "model": model("google", "nano-banana", description="Image generation and editing"),
                "metadata": {
                    "generated_description": "Generate and edit images from text prompts.",
                    "score": 1.3847375700706976,
                    "tags": ["text-to-image", "image-to-image", "image-editing"],
                },
            }
        ],
        "collections": [
            {
                "name": "Image Editing",
                "slug": "image-editing",
                "description": "Edit images",
                "models": ["google/nano-banana"],
            }
        ],
        "pages": [{"name": "Getting started with image editing", "href": "/docs/guides/image-editing"}],
    }
    return _merge(body, overrides)


def page(results: list[Any], *, next: str | None = None, previous: str | None = None) -> dict[str, Any]:
    """A paginated list body: results plus absolute next/previous URLs."""
    return {"previous": previous, "next": next, "results": copy.deepcopy(results)}


def sse_body(events: list[tuple[str, str]], *, with_ids: bool = True) -> bytes:
    """An SSE stream body; each (event, data) may hold newlines (sent as data: lines)."""
    chunks = []
    for number, (event, data) in enumerate(events, start=1):
        lines = [f"event: {event}"]
        if with_ids:
            lines.append(f"id: {number}")
        lines += [f"data: {part}" for part in data.split("\n")]
        chunks.append("\n".join(lines) + "\n\n")
    return "".join(chunks).encode()
