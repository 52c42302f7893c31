"""Model loading: ``load(path_or_id)`` returns the engine's `DiffusionLM` wrapper (imported
lazily as ``hexviz.models.load``; see the package docstring for what loads and how)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer
from transformers.utils import logging as hf_logging

from hexviz.models.meta import ModelDefaults, read_defaults
from hexviz.models.outline import ModelOutline, max_length_of
from hexviz.models.tokens import DREAM, LLADA, SpecialTokens
from hexviz.models.wrapper import DiffusionLM
from hexviz.paths import BUILTIN_DIR

BUILTIN = "builtin"


class ModelLoadError(ValueError):
    """A model that cannot be loaded, with the reason in words."""


@dataclass(frozen=True)
class Family:
    """Special ids (defaults; the checkpoint's own win) and conventions of a known dLLM family,
    found by its config's ``model_type``."""

    special: SpecialTokens
    shift_logits: bool = False
    needs_remote_code: bool = False


FAMILIES = {
    "llada": Family(LLADA),
    "dream": Family(DREAM, shift_logits=True, needs_remote_code=True),
}
END_OF_TURN_TOKENS = ("<|eot_id|>", "<|im_end|>", "<|end_of_turn|>")
LLADA_IDS = {"GSAI-ML/LLaDA-8B-Instruct", "GSAI-ML/LLaDA-8B-Base", "GSAI-ML/LLaDA-1.5"}


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _resolve(path_or_id: str | None) -> str:
    if path_or_id in (None, "", BUILTIN):
        return str(BUILTIN_DIR)
    return str(path_or_id)


def _read_defaults(name: str, family: Family | None) -> ModelDefaults:
    try:
        defaults = read_defaults(name)
    except ValueError as err:
        raise ModelLoadError(f"cannot load model {name!r}: {err}") from None
    if defaults is not None:
        return defaults
    return ModelDefaults() if family else ModelDefaults(gen_length=64, steps=64)


def _special_tokens(tokenizer, family: Family | None, config=None) -> SpecialTokens:
    if family is not None:  # the checkpoint's own ids win over the family's defaults
        vocab = tokenizer.get_vocab()
        return SpecialTokens(
            getattr(config, "mask_token_id", None) or family.special.mask_id,
            getattr(config, "eos_token_id", None) or family.special.end_of_text_id,
            next((vocab[t] for t in END_OF_TURN_TOKENS if t in vocab),
                 family.special.end_of_turn_id))
    if tokenizer.mask_token_id is None:
        raise ModelLoadError("the tokenizer has no mask token, so this is not a masked LM")
    vocab = tokenizer.get_vocab()
    end_of_turn = next((vocab[t] for t in END_OF_TURN_TOKENS if t in vocab), None)
    end_of_text = tokenizer.eos_token_id
    if end_of_text is None:
        end_of_text = tokenizer.sep_token_id
    return SpecialTokens(tokenizer.mask_token_id, end_of_text, end_of_turn)


def _config(name: str) -> dict:
    """The checkpoint's config.json (local, else from the hub), as a dict."""
    local = Path(name) / "config.json"
    if not local.is_file() and not Path(name).is_dir():
        from huggingface_hub import hf_hub_download

        try:
            local = Path(hf_hub_download(name, "config.json"))
        except Exception as err:  # offline, unknown repo, invalid id: all mean "not loadable"
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ModelLoadError(f"cannot load model {name!r}: not a local directory, and the "
                                 f"hub could not provide it ({reason})") from None
    if not local.is_file():
        raise ModelLoadError(f"cannot load model {name!r}: the directory has no config.json")
    return json.loads(local.read_text())


def _model_type(name: str) -> str:
    """The checkpoint's model_type, read from its config.json (AutoConfig rejects unknown ones)."""
    if name in LLADA_IDS:
        return "llada"
    return str(_config(name).get("model_type", "")).lower()


def _code_policy(name: str, trust_remote_code: bool) -> tuple[str, Family | None, bool]:
    """(model_type, family, whether its remote code may run): refused when the family needs
    code the operator did not opt in to; never for LLaDA, whose module is hexviz's own."""
    model_type = _model_type(name)
    family = FAMILIES.get(model_type)
    if family and family.needs_remote_code and not trust_remote_code:
        raise ModelLoadError(f"{name!r} is a {model_type} model, whose code is not part of "
                             "transformers; the operator must opt in to its remote code "
                             "(--trust-remote-code / HEXVIZ_TRUST_REMOTE_CODE=1)")
    return model_type, family, trust_remote_code and model_type != "llada"


def load_outline(path_or_id: str | None = None, *,
                 trust_remote_code: bool = False) -> ModelOutline:
    """What planning needs of a model without its weights (`ModelOutline`): its tokenizer,
    context and defaults, read in milliseconds, so a request is refused before `load` spends
    seconds on the weights. Raises `ModelLoadError` as `load` does."""
    hf_logging.disable_progress_bar()
    name = _resolve(path_or_id)
    try:
        _, family, trust_remote_code = _code_policy(name, trust_remote_code)
        tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=trust_remote_code)
        max_length = max_length_of(_config(name))
    except ModelLoadError:
        raise
    except Exception as err:  # noqa: BLE001  a damaged file raises anything
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelLoadError(f"cannot load model {name!r}: {reason}") from err
    return ModelOutline(name, tokenizer, max_length, _read_defaults(name, family))


def load(path_or_id: str | None = None, *, device: str | torch.device | None = None,
         dtype: torch.dtype | None = None, trust_remote_code: bool = False) -> DiffusionLM:
    """Load a masked diffusion LM by local path or hub id (``None``/"builtin": the built-in one).

    bf16 on a GPU, float32 on the CPU unless ``dtype`` says otherwise. Raises `ModelLoadError`
    with the reason when the model cannot be loaded.
    """
    hf_logging.disable_progress_bar()  # a loading bar per call would drown the CLI's output
    name = _resolve(path_or_id)
    device = torch.device(device) if device is not None else default_device()
    dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
    try:
        model_type, family, trust_remote_code = _code_policy(name, trust_remote_code)
        if model_type == "llada":  # hexviz's own LLaDA: its remote code never runs
            import hexviz.models.llada  # noqa: F401  registers it with the Auto classes
        tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=trust_remote_code)
        placement = {"device_map": str(device)} if device.type == "cuda" else {}
        placement["use_safetensors"] = True  # weights never come from a pickle (.bin)
        if family is not None and family.needs_remote_code:
            model = AutoModel.from_pretrained(name, dtype=dtype, trust_remote_code=True,
                                              **placement)
        else:
            model = AutoModelForMaskedLM.from_pretrained(
                name, dtype=dtype, trust_remote_code=trust_remote_code, **placement)
    except ModelLoadError:
        raise
    except Exception as err:  # noqa: BLE001  a damaged file raises anything (SafetensorError...)
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelLoadError(f"cannot load model {name!r}: {reason}") from err
    model.to(device).eval()
    return DiffusionLM(
        model=model, tokenizer=tokenizer, name=name,
        special=_special_tokens(tokenizer, family, model.config),
        shift_logits=family.shift_logits if family else False,
        defaults=_read_defaults(name, family),
    )
