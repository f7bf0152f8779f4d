"""The 400 a model without tools, vision or structured output gives for a request that uses them, in
the shape and wording of each API (`tools`, `vision` and `structured_output` of SimModel)."""

from __future__ import annotations

from aiohttp import web

from monitor.simulator.catalog import SimModel
from monitor.simulator.conversation import Extras
from monitor.simulator.errors import error_for, gemini_error

OPENAI_TOOLS = (
    "tools is not supported in this model. For a list of supported models, refer to "
    "https://platform.openai.com/docs/guides/function-calling#models-supporting-function-calling."
)


def refusal(api: str, model: SimModel, extras: Extras, request_id: str) -> web.Response | None:
    """The error for the first feature of the request `model` cannot do; None when it can do them all.

    `api` is "openai" (chat completions), "responses", "anthropic" or "gemini-openai".
    """
    if extras.tools and not model.tools:
        return _tools(api, model, request_id)
    if extras.images and not model.vision:
        return _vision(api, model, extras.images[0].where, request_id)
    if extras.response_format is not None and not model.structured_output:
        return _structured(api, model, str(extras.response_format["type"]), request_id)
    return None


def _tools(api: str, model: SimModel, request_id: str) -> web.Response:
    if api in ("openai", "responses"):
        return error_for("openai", 400, OPENAI_TOOLS, request_id=request_id, param="tools")
    if api == "anthropic":
        return error_for(
            "anthropic", 400, f"tools: {model.id} does not support tool use.", request_id=request_id
        )
    return gemini_error(400, f"Function calling is not enabled for models/{model.id}", wrapped=True)


def _vision(api: str, model: SimModel, where: str, request_id: str) -> web.Response:
    if api in ("openai", "responses"):
        kind = "image_url" if api == "openai" else "input_image"
        message = f"Invalid content type. {kind} is only supported by certain models."
        return error_for("openai", 400, message, request_id=request_id, param=where)
    if api == "anthropic":
        message = f"{where}: {model.id} does not support image input."
        return error_for("anthropic", 400, message, request_id=request_id)
    return gemini_error(400, f"Image input modality is not enabled for models/{model.id}", wrapped=True)


def _structured(api: str, model: SimModel, kind: str, request_id: str) -> web.Response:
    if api in ("openai", "responses"):
        name = "response_format" if api == "openai" else "text.format"
        message = f"Invalid parameter: '{name}' of type '{kind}' is not supported with this model."
        return error_for("openai", 400, message, request_id=request_id, param=name)
    if api == "anthropic":
        message = f"output_config.format: {model.id} does not support structured outputs."
        return error_for("anthropic", 400, message, request_id=request_id)
    return gemini_error(400, f"Json mode is not enabled for models/{model.id}", wrapped=True)
