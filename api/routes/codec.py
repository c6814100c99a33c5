"""The codec endpoint (Temporal's codec-server protocol) for operators: the Web UI and the CLI send
the encrypted payloads they show and get them back readable (docs/security.md). It answers to a
codec key (it opens this endpoint and nothing else) as a Bearer header or as the path segment
before `/decode` (the Web UI, which cannot add a header of its own, and shows its endpoint to
its users), and to an operator key as a Bearer header only (CLI: `--codec-auth`): an operator
key never belongs in a URL. To a browser only from the configured origins (CORS)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Header
from fastapi import Request
from fastapi.responses import Response
from google.protobuf.json_format import MessageToJson
from google.protobuf.json_format import Parse
from google.protobuf.json_format import ParseError
from temporalio.api.common.v1 import Payloads

from api.deps import SettingsDep
from api.deps import TemporalDep
from api.deps import key_in
from api.deps import operator_key_ok
from api.errors import ApiError
from core.payload_codec import UnknownKeyError
from core.settings import Settings
from models.errors import ApiProblem

router = APIRouter(tags=["operators"], include_in_schema=False)
CODEC_MAX_BYTES = 4 * 1024 * 1024  # a history's payloads in one call
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"


def _cors(request: Request, settings: Settings) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin is None or origin not in settings.codec_cors_origins:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _authorise(settings: Settings, path_credential: str, authorization: str | None) -> None:
    if not settings.operator_keys and not settings.codec_keys:
        raise ApiError(ApiProblem.CODEC_OFF)
    scheme, _, bearer = (authorization or "").partition(" ")
    header = bearer if scheme.lower() == "bearer" else ""
    if path_credential:
        allowed = key_in(settings.codec_keys, path_credential)
    else:
        allowed = key_in(settings.codec_keys, header) or operator_key_ok(settings, header)
    if not allowed:
        raise ApiError(ApiProblem.INVALID_OPERATOR_KEY, headers={"WWW-Authenticate": "Bearer"})


@router.options("/codec/{action}")
@router.options("/codec/{credential}/{action}")
async def preflight(request: Request, settings: SettingsDep) -> Response:
    headers = _cors(request, settings)
    if headers:
        headers |= {
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": "600",
        }
    return Response(status_code=204, headers=headers)


@router.post("/codec/{action}")
@router.post("/codec/{credential}/{action}")
async def transcode(
    action: str,
    request: Request,
    settings: SettingsDep,
    client: TemporalDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """`POST …/decode` or `…/encode`: a `Payloads` message in protobuf JSON, back the same."""
    cors = _cors(request, settings)
    try:
        # Only ever from the path (never a query parameter, which logs would keep).
        _authorise(settings, request.path_params.get("credential", ""), authorization)
        codec = client.data_converter.payload_codec
        if action not in ("decode", "encode"):
            raise ApiError(ApiProblem.NOT_FOUND)
        try:
            payloads = Parse(await request.body(), Payloads())
        except ParseError:
            raise ApiError(ApiProblem.INVALID_REQUEST, "send a Payloads message as JSON") from None
        if codec is not None:
            method = codec.decode if action == "decode" else codec.encode
            try:
                result = await method(payloads.payloads)
            except UnknownKeyError as err:
                raise ApiError(ApiProblem.UNKNOWN_PAYLOAD_KEY, str(err)) from None
            except ValueError as err:  # a payload that fails its integrity check
                raise ApiError(ApiProblem.INVALID_REQUEST, str(err)) from None
            payloads = Payloads(payloads=result)
    except ApiError as err:
        err.headers = (err.headers or {}) | cors  # the browser may read why it was refused
        raise
    body = MessageToJson(payloads, indent=None)
    return Response(body, media_type="application/json", headers=cors)
