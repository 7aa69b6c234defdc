"""Check X requests and answers against X's official OpenAPI spec.

``sandbox/specs/x-openapi-subset.json`` holds the operations Kanal uses and
every schema they reference, cut from the official spec (``openapi.json`` of
``xdevplatform/docs``, info.version 2.167) by ``extract_subset``; the full
spec lives in the project's shared folder as ``platforms/x-openapi.json``.

``XOpenAPI.check_request`` and ``check_response`` return a list of problems
(empty when the message fits). Schemas are OpenAPI 3.0: ``nullable`` becomes a
JSON Schema type union, and ``$ref``s resolve through ``referencing``.

Where X's live API and its spec disagree, the live API wins and the checks
say so instead of failing:

- error bodies with ``"type": "about:blank"`` (401, 403 duplicate, 429 as X
  sends them) are not in the spec's ``Problem`` union; they are checked
  against RFC 7807's shape instead;
- the docs (and the live API) name the field list ``tweet.fields`` with
  ``author_id``, ``referenced_tweets`` …, the spec ``post.fields`` without
  them; query parameters the spec does not name are not errors, and
  ``unknown_query_parameters`` lists them.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from email.parser import BytesParser
from email.policy import HTTP
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SUBSET_PATH = Path(__file__).parent / "specs" / "x-openapi-subset.json"
SPEC_URI = "urn:x-openapi"

# (method, path template) of every operation the X adapter and emulator use.
OPERATIONS = (
    ("post", "/2/tweets"),
    ("get", "/2/tweets"),
    ("get", "/2/tweets/{id}"),
    ("delete", "/2/tweets/{id}"),
    ("get", "/2/tweets/search/recent"),
    ("put", "/2/tweets/{tweet_id}/hidden"),
    ("get", "/2/users/me"),
    ("get", "/2/users/{id}"),
    ("get", "/2/users/by/username/{username}"),
    ("get", "/2/users/{id}/mentions"),
    ("get", "/2/users/{id}/tweets"),
    ("post", "/2/users/{id}/retweets"),
    ("post", "/2/users/{id}/likes"),
    ("delete", "/2/users/{id}/likes/{tweet_id}"),
    ("post", "/2/media/upload/initialize"),
    ("post", "/2/media/upload/{id}/append"),
    ("post", "/2/media/upload/{id}/finalize"),
    ("get", "/2/media/upload"),
    ("post", "/2/media/upload"),
    ("post", "/2/media/metadata"),
    ("get", "/2/dm_events"),
    ("post", "/2/dm_conversations/with/{participant_id}/messages"),
    ("get", "/2/dm_conversations/with/{participant_id}/dm_events"),
)
RFC7807 = {
    "type": "object",
    "required": ["title", "type"],
    "properties": {
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "type": {"type": "string"},
        "status": {"type": "integer"},
    },
}


def extract_subset(spec: Mapping, operations: Iterable[tuple[str, str]] = OPERATIONS):
    """The given operations of ``spec`` and everything they reference."""
    paths: dict = {}
    for method, template in operations:
        paths.setdefault(template, {})[method] = copy.deepcopy(
            spec["paths"][template][method]
        )
    components: dict = {}
    pending = _refs(paths)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, section, name = ref.removeprefix("#/").split("/", 2)
        value = spec["components"][section][name]
        components.setdefault(section, {})[name] = copy.deepcopy(value)
        pending.extend(_refs(value))
    return {
        "openapi": spec["openapi"],
        "info": {
            **spec["info"],
            "x-kanal-subset": "Operations used by Kanal, cut from the official "
            "spec by sandbox.x_openapi.extract_subset.",
        },
        "paths": paths,
        "components": {k: dict(sorted(v.items())) for k, v in components.items()},
    }


def _refs(value) -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith("#/"):
                found.append(item)
            else:
                found.extend(_refs(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_refs(item))
    return found


def _json_schema(value):
    """OpenAPI 3.0 schema → JSON Schema: ``nullable`` becomes a type union and
    local ``$ref``s absolute, so that schemas taken out of the document (query
    parameters) still resolve."""
    if isinstance(value, list):
        return [_json_schema(v) for v in value]
    if not isinstance(value, dict):
        return value
    converted = {k: _json_schema(v) for k, v in value.items() if k != "nullable"}
    ref = converted.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        converted["$ref"] = SPEC_URI + ref
    if value.get("nullable") is True:
        kind = converted.get("type")
        if isinstance(kind, str):
            converted["type"] = [kind, "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    return converted


class XOpenAPI:
    """One loaded spec; cheap to query, safe to share."""

    def __init__(self, spec: Mapping) -> None:
        self.spec = _json_schema(copy.deepcopy(dict(spec)))
        resource = Resource.from_contents(self.spec, default_specification=DRAFT7)
        self.registry = Registry().with_resource(SPEC_URI, resource)
        self._routes = []
        for template, methods in self.spec["paths"].items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template))
            names = re.findall(r"\{([^}]+)\}", template)
            for method in methods:
                self._routes.append(
                    (method, re.compile(f"^{pattern}$"), template, names)
                )
        # Literal paths first: /2/users/me before /2/users/{id}.
        self._routes.sort(key=lambda r: r[2].count("{"))

    @classmethod
    def load(cls, path: str | Path | None = None) -> XOpenAPI:
        return _load(str(path or SUBSET_PATH))

    @property
    def version(self) -> str:
        return str(self.spec["info"]["version"])

    # -- lookup ---------------------------------------------------------------

    def find(self, method: str, path: str):
        """``(template, operation, path_params)`` or None for an unknown call."""
        method = method.lower()
        for route_method, pattern, template, names in self._routes:
            if route_method != method:
                continue
            match = pattern.match(path)
            if match:
                operation = self.spec["paths"][template][method]
                return template, operation, dict(zip(names, match.groups(),
                                                     strict=True))
        return None

    def validator(self, schema: Mapping) -> Draft7Validator:
        return Draft7Validator(schema, registry=self.registry)

    def _errors(self, schema: Mapping, value, where: str) -> list[str]:
        return [
            f"{where}: {e.message} (at {'/'.join(map(str, e.absolute_path)) or '.'})"
            for e in self.validator(schema).iter_errors(value)
        ]

    def _parameter(self, parameter: Mapping) -> Mapping:
        ref = parameter.get("$ref", "")
        if ref.startswith(SPEC_URI + "#/components/parameters/"):
            return self.spec["components"]["parameters"][ref.rsplit("/", 1)[1]]
        return parameter

    # -- requests --------------------------------------------------------------------

    def unknown_query_parameters(self, method: str, path: str,
                                 query: Mapping[str, str]) -> set[str]:
        found = self.find(method, path)
        if found is None:
            return set(query)
        names = {self._parameter(p)["name"]
                 for p in found[1].get("parameters", [])}
        return {n for n in query if n not in names}

    def check_request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        content_type: str = "",
        body: bytes = b"",
    ) -> list[str]:
        found = self.find(method, path)
        if found is None:
            return [f"{method.upper()} {path} is not an operation of the spec"]
        template, operation, path_params = found
        where = f"{method.upper()} {template}"
        problems: list[str] = []
        query = dict(query or {})
        for parameter in map(self._parameter, operation.get("parameters", [])):
            name, place = parameter["name"], parameter["in"]
            source = path_params if place == "path" else (
                query if place == "query" else {})
            if place not in ("path", "query"):
                continue
            if name not in source:
                if parameter.get("required"):
                    problems.append(f"{where}: missing {place} parameter {name}")
                continue
            value = _coerce(source[name], parameter.get("schema", {}), self.spec)
            problems += self._errors(parameter.get("schema", {}), value,
                                     f"{where} {place} parameter {name}")
        request_body = operation.get("requestBody")
        if request_body is None:
            return problems
        media_type = content_type.split(";", 1)[0].strip().lower()
        if not body:
            if request_body.get("required"):
                problems.append(f"{where}: the request has no body")
            return problems
        content = request_body.get("content", {})
        if media_type not in content:
            return [*problems,
                    f"{where}: content type {media_type!r} not one of {list(content)}"]
        schema = content[media_type]["schema"]
        if media_type == "application/json":
            try:
                value = json.loads(body)
            except ValueError:
                return [*problems, f"{where}: the body is not JSON"]
        elif media_type == "multipart/form-data":
            value = _multipart(content_type, body, schema, self.spec)
        else:
            return problems
        return problems + self._errors(schema, value, f"{where} request body")

    # -- responses ----------------------------------------------------------------

    def check_response(
        self, method: str, path: str, *, status: int, content_type: str,
        body: bytes,
    ) -> list[str]:
        found = self.find(method, path)
        if found is None:
            return [f"{method.upper()} {path} is not an operation of the spec"]
        template, operation, _ = found
        where = f"{method.upper()} {template} {status}"
        responses = operation["responses"]
        response = responses.get(str(status)) or responses.get("default")
        if response is None:
            return [f"{where}: status {status} is not documented"]
        content = response.get("content", {})
        if not content:
            return []
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in content:
            return [f"{where}: content type {media_type!r} not one of {list(content)}"]
        try:
            value = json.loads(body)
        except ValueError:
            return [f"{where}: the body is not JSON"]
        schema = content[media_type]["schema"]
        if (
            media_type == "application/problem+json"
            and isinstance(value, dict)
            and value.get("type") == "about:blank"
        ):
            # X's live errors (401, duplicate 403, 429) use about:blank, which
            # the spec's Problem union leaves out.
            schema = RFC7807
        return self._errors(schema, value, f"{where} response body")


@lru_cache(maxsize=4)
def _load(path: str) -> XOpenAPI:
    return XOpenAPI(json.loads(Path(path).read_text(encoding="utf-8")))


def _resolve(schema: Mapping, spec: Mapping) -> Mapping:
    ref = schema.get("$ref", "")
    if ref.startswith(SPEC_URI + "#/components/schemas/"):
        return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def _coerce(raw: str, schema: Mapping, spec: Mapping):
    """A query or path string as the type its schema wants."""
    schema = _resolve(schema, spec)
    kind = schema.get("type")
    if kind == "array":
        return [_coerce(v, schema.get("items", {}), spec) for v in raw.split(",")]
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw


def _multipart(content_type: str, body: bytes, schema: Mapping, spec: Mapping):
    """Form fields of a multipart body, typed by the schema (files as text)."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    properties = _resolve(schema, spec).get("properties", {})
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            fields[name] = f"<{len(payload)} bytes>"
        else:
            fields[name] = _coerce(payload.decode("utf-8", "replace"),
                                   properties.get(name, {}), spec)
    return fields
