"""Loading suites: evals/NAME.yaml and its samples, resolved into a SuiteSpec with every prompt rendered.

The format is documented in docs/suites.md. Every error names the file, the line and what is expected.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from monitor.core.errors import SuiteError
from monitor.evals import requests, variants
from monitor.evals.graders import Grader, LLMJudgeGrader, build_graders, describe
from monitor.evals.header import is_number, read_judge, read_params
from monitor.evals.images import resolve_images
from monitor.evals.render import read_prompt, render_messages
from monitor.evals.sample_files import file_samples
from monitor.evals.samples import RawSample, inline_samples, sample_error
from monitor.evals.spec import SampleSpec
from monitor.evals.versioning import SuiteVersion
from monitor.evals.yaml_lines import describe_value, line_of, parse_yaml, reject_unknown_keys
from monitor.providers.base import TOOL_CHOICES, ToolSpec

SUITE_KEYS = (
    "name",
    "description",
    "prompt",
    "params",
    "graders",
    "pass_threshold",
    "judge",
    "tools",
    "tool_choice",
    "response_format",
    "variants",
    "samples_files",
    "samples",
    "batch",
)
NAME_PATTERN = re.compile(r"^[a-z0-9_-]+$")


@dataclass(frozen=True)
class SuiteSpec:
    """One suite version: everything needed to run and grade it, and its content hash."""

    name: str
    description: str
    path: Path
    version: str
    params: dict[str, Any]
    graders: list[Grader]
    pass_threshold: float
    samples: list[SampleSpec]
    judge_model: str | None
    definition: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    variant: str | None = None
    """The prompt variant this version runs (None: the suite's own prompt, the variant `default`)."""
    variant_names: tuple[str, ...] = ()
    """Every variant the suite declares, in order (the same for each of its variants)."""

    @property
    def base_name(self) -> str:
        """The suite's own name, without the `[variant]`."""
        return variants.split_name(self.name)[0]

    @property
    def needs_judge(self) -> bool:
        return any(isinstance(g, LLMJudgeGrader) for g in self.graders)

    @property
    def judge_models(self) -> list[str]:
        """The judge model keys the suite's llm_judge graders name (their own `model`, else the suite's)."""
        return sorted({g.model for g in self.graders if isinstance(g, LLMJudgeGrader) and g.model})


def _read_file(path: Path) -> dict[str, Any]:
    """A suite file's YAML mapping, its top-level keys checked."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SuiteError("suite file not found", path=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"cannot read the suite: {exc}", path=source) from None
    data = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise SuiteError("expected a mapping with prompt, graders and samples", path=source, line=1)
    reject_unknown_keys(data, SUITE_KEYS, "", source, data)
    return data


def load_suite(path: Path, *, default_judge: str | None = None, variant: str | None = None) -> SuiteSpec:
    """Load and fully resolve one suite file; raises SuiteError (exit 2) naming the file and line.

    `default_judge` ([judge] model in monitor.toml) serves llm_judge graders when the suite names
    no judge; it then becomes part of the version, so scores from two judges are never mixed.
    `variant` picks one of the suite's `variants` (None: its own prompt).
    """
    path = Path(path)
    return _build(_read_file(path), path, default_judge, variant)


def _located(data: Any, source: str) -> requests.Fail:
    """A SuiteError at a suite-level key's line."""

    def fail(key: str, message: str) -> SuiteError:
        return SuiteError(
            f"{key}: {message}", path=source, line=line_of(data, key.split(".")[0].split("[")[0])
        )

    return fail


def _build(data: dict[str, Any], path: Path, default_judge: str | None, variant: str | None) -> SuiteSpec:
    """The suite version `variant` of a suite file's mapping, every sample resolved and kept."""
    return _resolve(data, path, default_judge, variant, keep=True)[0]


def _resolve(
    data: dict[str, Any], path: Path, default_judge: str | None, variant: str | None, *, keep: bool
) -> tuple[SuiteSpec, int]:
    """The suite version and its sample count; without `keep` its `samples` stay empty (only checked
    and hashed, for `check` of a large suite)."""
    source = str(path)
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        where = "name" if "name" in data else "the file name (the default suite name)"
        message = f"{where}: expected lower-case letters, digits, '-' or '_', got {name!r}"
        raise SuiteError(message, path=source, line=line_of(data, "name"))
    description = data.get("description", "")
    if not isinstance(description, str):
        message = f"description: expected a string, got {describe_value(description)}"
        raise SuiteError(message, path=source, line=line_of(data, "description"))
    declared = variants.read_variants(data.get("variants"), data, source)
    prompt = read_prompt(data.get("prompt"), data, source)
    params = read_params(data.get("params"), data, source)
    override: dict[str, Any] = {}
    if variant is not None:
        if variant not in declared:
            listing = ", ".join(declared) or "none"
            raise SuiteError(
                f"suite {name!r} has no variant {variant!r} (its variants: {listing})", path=source
            )
        override = declared[variant]
        if "prompt" in override:
            prompt = read_prompt(override["prompt"], override, source)
        params = {**params, **read_params(override.get("params"), override, source)}
        description = override.get("description", description)
    fail = _located(data, source)
    tools = requests.read_tools(data.get("tools"), fail)
    own: dict[str, Any] = {
        **data,
        **{k: v for k, v in override.items() if k in ("tool_choice", "response_format")},
    }
    tool_choice = requests.read_tool_choice(own.get("tool_choice"), tools, fail)
    response_format = requests.read_response_format(own.get("response_format"), fail)
    judge_model = read_judge(data.get("judge"), data, source)
    if judge_model is None and _uses_judge(data.get("graders")):
        judge_model = default_judge
    if "graders" not in data:
        raise SuiteError("graders: required, e.g. graders: [{type: exact}]", path=source, line=1)
    graders = build_graders(data["graders"], source=source, judge_model=judge_model)
    threshold = data.get("pass_threshold", 1.0)
    if not is_number(threshold) or not 0 <= threshold <= 1:
        message = f"pass_threshold: expected a number from 0 to 1, got {describe_value(threshold)}"
        raise SuiteError(message, path=source, line=line_of(data, "pass_threshold"))

    header: dict[str, Any] = {
        "graders": describe(graders),
        "params": params,
        "pass_threshold": threshold,
        "judge_model": judge_model,
    }
    if variant is not None:  # the default's version is unchanged by declaring variants
        header["variant"] = {"name": variant, "prompt": prompt.raw if prompt else None}
    version = SuiteVersion(header)
    samples: list[SampleSpec] = []
    seen: dict[str, str] = {}
    suite_dir = path.parent
    raws = itertools.chain(
        inline_samples(data.get("samples"), data, source),
        file_samples(data.get("samples_files"), data, path),
    )
    for raw in raws:  # streamed: each sample is resolved, checked and hashed as it is read
        if raw.key in seen:
            message = f"duplicate sample key {raw.key!r} (also at {seen[raw.key]})"
            if not raw.has_id:
                message += "; samples without an id are keyed by a hash of their content, so give them ids"
            raise sample_error(message, raw.source)
        seen[raw.key] = raw.source
        sample = _sample(raw, prompt, source, suite_dir, tools, tool_choice, response_format)
        for grader in graders:
            problem = grader.check_sample(sample)
            if problem:
                raise SuiteError(f"sample {sample.key!r} ({sample.source}): {problem}", path=source)
        version.add(sample)
        if keep:
            samples.append(sample)
    if not seen:
        raise SuiteError("the suite has no samples: add `samples` or `samples_files`", path=source, line=1)

    batch = data.get("batch", False)
    if not isinstance(batch, bool):
        message = f"batch: expected true or false, got {describe_value(batch)}"
        raise SuiteError(message, path=source, line=line_of(data, "batch"))
    definition = {
        "batch": batch,  # scheduled runs go through the provider's batch API; not part of the version
        "description": description,
        "path": source,
        "prompt": prompt.raw if prompt else None,
        "variant": variant,
        **header,
    }
    spec = SuiteSpec(
        name=variants.qualified_name(name, variant),
        description=description,
        path=path,
        version=version.hexdigest(),
        params=params,
        graders=graders,
        pass_threshold=float(threshold),
        samples=samples,
        judge_model=judge_model,
        definition=definition,
        variant=variant,
        variant_names=tuple(declared),
    )
    return spec, len(seen)


def _sample(
    raw: RawSample,
    prompt: Any,
    source: str,
    suite_dir: Path,
    tools: tuple[ToolSpec, ...],
    tool_choice: str | None,
    response_format: dict[str, Any] | None,
) -> SampleSpec:
    """One sample resolved: its messages rendered (images read), its own request parts over the suite's."""

    def fail(key: str, message: str) -> SuiteError:
        return sample_error(f"{key}: {message}", raw.source)

    own = raw.request
    if own:
        if "tools" in own:
            tools = requests.read_tools(own["tools"], fail)
            if "tool_choice" not in own and tool_choice not in (None, *TOOL_CHOICES):
                tool_choice = requests.read_tool_choice({"name": tool_choice}, tools, fail)
        if "tool_choice" in own:
            tool_choice = requests.read_tool_choice(own["tool_choice"], tools, fail)
        if "response_format" in own:
            response_format = requests.read_response_format(own["response_format"], fail)
    messages = render_messages(prompt, raw, source)
    if raw.messages is not None:  # only a sample's own turns hold images: a rendered prompt is text
        messages = resolve_images(
            messages, suite_dir=suite_dir, fail=partial(sample_error, source=raw.source)
        )
    tool_results = requests.read_tool_results(own.get("tool_results"), tools, fail) if own else {}
    # positional, in SampleSpec's field order: eleven keyword arguments cost 5% of `check` on a large suite
    return SampleSpec(
        raw.key,
        messages,
        raw.target,
        raw.choices,
        raw.group,
        raw.vars,
        raw.source,
        tools,
        tool_choice,
        response_format,
        tool_results,
    )


def _uses_judge(graders: Any) -> bool:
    return isinstance(graders, list) and any(
        isinstance(g, dict) and g.get("type") == "llm_judge" for g in graders
    )


def _declared_name(path: Path) -> str:
    """A suite file's `name` (else its stem), read without loading its samples."""
    try:
        data = parse_yaml(path.read_text(encoding="utf-8-sig"), str(path))
    except (SuiteError, OSError, UnicodeDecodeError):
        return path.stem
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else path.stem


def _load_variants(path: Path, default_judge: str | None, wanted: str | None) -> list[SuiteSpec]:
    """The versions of one suite file `wanted` selects (see variants.choose), the file read once."""
    data = _read_file(path)
    declared = list(variants.read_variants(data.get("variants"), data, str(path)))
    return [_build(data, path, default_judge, v) for v in variants.choose(wanted, declared)]


@dataclass(frozen=True)
class SuiteSummary:
    """What `check` shows of one suite version, from a load that keeps none of its samples."""

    name: str
    path: Path
    samples: int
    graders: list[str]
    variant_names: tuple[str, ...]
    version: str
    judge_models: tuple[str, ...] = ()


def check_suite(path: Path, *, default_judge: str | None = None) -> list[SuiteSummary]:
    """Validate one suite file with every prompt variant, as `load_suites` would (the same errors), the
    samples streamed and dropped once checked and hashed: memory stays flat for any number of samples."""
    path = Path(path)
    data = _read_file(path)
    declared = list(variants.read_variants(data.get("variants"), data, str(path)))
    summaries = []
    for variant in variants.choose(variants.ALL, declared):
        spec, count = _resolve(data, path, default_judge, variant, keep=False)
        graders = [g.type for g in spec.graders]
        summaries.append(
            SuiteSummary(
                spec.name, path, count, graders, spec.variant_names, spec.version, tuple(spec.judge_models)
            )
        )
    return summaries


def check_names(directory: Path) -> None:
    """The SuiteError `load_suites(directory)` raises for two suite files of one name, read from their
    headers only (for `check`, once every file loaded on its own)."""
    directory = Path(directory)
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    by_name: dict[str, Path] = {}
    for path in files:
        name = _declared_name(path)
        if name in by_name:
            message = f"two suites are named {name!r}: {by_name[name].name} and {path.name}"
            raise SuiteError(message, path=str(directory))
        by_name[name] = path


def load_suites(
    directory: Path,
    names: Sequence[str] | None = None,
    *,
    default_judge: str | None = None,
    variant: str | None = None,
) -> list[SuiteSpec]:
    """Every suite in `directory` (*.yaml, *.yml), or the named ones in the order given.

    `variant`: None or "default" loads each suite's own prompt, "all" every variant too, a name that
    variant of each suite declaring it (a SuiteError when none does). A name `support[cot]` in `names`
    loads that one variant.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SuiteError("suites directory not found", path=str(directory))
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not names:
        specs = [spec for p in files for spec in _load_variants(p, default_judge, variant)]
        by_name: dict[str, Path] = {}
        for spec in specs:
            if spec.name in by_name:
                message = (
                    f"two suites are named {spec.name!r}: {by_name[spec.name].name} and {spec.path.name}"
                )
                raise SuiteError(message, path=str(directory))
            by_name[spec.name] = spec.path
        return _some(specs, variant, directory)
    declared = {p: _declared_name(p) for p in files}
    chosen: list[SuiteSpec] = []
    for wanted in dict.fromkeys(names):
        candidate = Path(wanted)
        if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
            chosen.extend(_load_variants(candidate, default_judge, variant))
            continue
        base, named_variant = variants.split_name(wanted)
        matches = [p for p, n in declared.items() if n == base] or [p for p in files if p.stem == base]
        if not matches:
            available = sorted(set(declared.values()))
            close = difflib.get_close_matches(base, available, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            listing = ", ".join(available) or "none"
            raise SuiteError(f"unknown suite {wanted!r}{hint} (available in {directory}: {listing})")
        if len(matches) > 1:
            files_named = ", ".join(p.name for p in matches)
            raise SuiteError(f"two suites are named {base!r}: {files_named}", path=str(directory))
        if named_variant not in (None, variants.DEFAULT):
            chosen.append(load_suite(matches[0], default_judge=default_judge, variant=named_variant))
        else:
            chosen.extend(_load_variants(matches[0], default_judge, variant))
    return _some(chosen, variant, directory)


def _some(specs: list[SuiteSpec], variant: str | None, directory: Path) -> list[SuiteSpec]:
    """`specs`, unless a named variant selected nothing: then say which suites have which variants."""
    if specs or variant in (None, variants.DEFAULT, variants.ALL):
        return specs
    raise SuiteError(f"no suite declares the variant {variant!r}", path=str(directory))
