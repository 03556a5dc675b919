"""`/docs`: the API reference, rendered on the server from `/openapi.json` (issue #13).

FastAPI's own /docs page loads Swagger UI from a CDN and runs an inline script: neither works
offline nor under this site's Content-Security-Policy (`script-src 'self'`). This page needs
neither: every operation with its parameters, responses, the shape of each, and a `curl`
line, in plain HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from papertide.web.deps import PageDep, SettingsDep

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    where: str  # path, query, header
    type: str
    required: bool
    description: str


@dataclass(frozen=True, slots=True)
class Reply:
    status: str
    description: str
    shape: str  # "HfListItem[]", "application/rss+xml", ""


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    tag: str
    parameters: list[Parameter]
    replies: list[Reply]
    example: str  # a curl line


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    description: str
    fields: list[Parameter]


def _type(schema: dict[str, Any]) -> str:
    """A schema as a short type: `string`, `integer ≥ 1 ≤ 100`, `7d | 30d | all`, `Shape[]`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    if "anyOf" in schema:
        kinds = [_type(option) for option in schema["anyOf"]]
        return " | ".join(kind for kind in kinds)
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return _type(schema.get("items", {})) + "[]"
    limits = [f"≥ {schema['minimum']}" if "minimum" in schema else "",
              f"≤ {schema['maximum']}" if "maximum" in schema else ""]  # fmt: skip
    return " ".join([kind, *filter(None, limits)])


def _operations(schema: dict[str, Any], base: str) -> list[Operation]:
    found = []
    for path, methods in schema.get("paths", {}).items():
        for method, spec in methods.items():
            parameters = [
                Parameter(
                    p["name"],
                    p["in"],
                    _type(p.get("schema", {})),
                    bool(p.get("required")),
                    p.get("description") or p.get("schema", {}).get("description", ""),
                )
                for p in spec.get("parameters", [])
            ]
            replies = [_reply(status, reply) for status, reply in spec.get("responses", {}).items()]
            example = f"curl -s '{base}{_example_path(path, parameters)}'"
            if method != "get":
                example = f"curl -s -X {method.upper()} '{base}{path}'"
            found.append(
                Operation(
                    method.upper(),
                    path,
                    spec.get("summary", ""),
                    spec.get("description", ""),
                    (spec.get("tags") or ["Other"])[0],
                    parameters,
                    replies,
                    example,
                )
            )
    return found


def _reply(status: str, reply: dict[str, Any]) -> Reply:
    content = reply.get("content", {})
    shape = ""
    if "application/json" in content:
        shape = _type(content["application/json"].get("schema", {}))
    elif content:
        shape = ", ".join(content)
    return Reply(status, reply.get("description", ""), shape)


def _example_path(path: str, parameters: list[Parameter]) -> str:
    examples = {"arxiv_id": "2608.16590", "fmt": "atom", "kind": "date", "period": "2026-08-20",
                "category": "cs.LG", "username": "taesiri"}  # fmt: skip
    for parameter in parameters:
        if parameter.where == "path":
            value = examples.get(parameter.name, parameter.name)
            path = path.replace(f"{{{parameter.name}:path}}", value)
            path = path.replace(f"{{{parameter.name}}}", value)
    return path


def _shapes(schema: dict[str, Any]) -> list[Shape]:
    shapes = []
    for name, spec in schema.get("components", {}).get("schemas", {}).items():
        if name in ("HTTPValidationError", "ValidationError"):
            continue
        required = set(spec.get("required", []))
        fields = [
            Parameter(
                field, "", _type(field_spec), field in required, field_spec.get("description", "")
            )
            for field, field_spec in spec.get("properties", {}).items()
        ]
        shapes.append(Shape(name, spec.get("description", ""), fields))
    return shapes


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, page: PageDep, settings: SettingsDep) -> HTMLResponse:
    """Every operation of /openapi.json, grouped, then every shape its answers use."""
    schema = request.app.openapi()
    base = settings.public_url.rstrip("/")
    operations = _operations(schema, base)
    first = ("Hugging Face compatible", "Papertide", "Feeds")
    tags = sorted(
        dict.fromkeys(operation.tag for operation in operations),
        key=lambda tag: first.index(tag) if tag in first else len(first),
    )
    operations.sort(key=lambda operation: tags.index(operation.tag))
    return page.render(
        "api_docs.html",
        schema=schema,
        tags=tags,
        operations=operations,
        shapes=_shapes(schema),
        base=base,
    )
