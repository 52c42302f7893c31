"""The app's API endpoint, ``/run``: a question and settings in, the run's JSON out (the CLI's
``--json``). It takes the settings the CLI takes, as text and numbers (a growing canvas's by
their `LengthConfig` names); ZeroGPU and the limits refuse what the app refuses, in one line."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import gradio as gr

from hexviz import limits
from hexviz.app.runner import Runner, RunRequest
from hexviz.app.serving import RUNS_AT_ONCE
from hexviz.app.widgets import CANVAS_OPTIONS, given_length_options, user_errors
from hexviz.policy.samplers import parse_edit
from hexviz.policy.settings import parse_blocks
from hexviz.policy.strategies import DVOTING_ENTROPY_THRESHOLD, DVOTING_ROUNDS
from hexviz.runs import record


def api_request(label: str, prompt: str, blocks: str, remasking: str, gen_length: int,
                steps: int, temperature: float, seeds: int, baselines: bool,
                sampler: str = "fixed", edit: float | str | None = None,
                cache: str = "none", task: str = "", length: str = "fixed",
                length_options: Mapping[str, object] | None = None,
                ada_block_length: int = 0, ada_delimiters: str = "", strategy: str = "hex",
                rounds: int = DVOTING_ROUNDS,
                entropy_threshold: float = DVOTING_ENTROPY_THRESHOLD,
                edit_scope: str = "") -> RunRequest:
    """The API's arguments as a request: "" blocks is the HEX set, 0 the model's defaults,
    "" task the model's own format, a None growing-canvas setting the authors' default, 0 and
    "" AdaBlock's fallback and delimiters the model's (delimiters: space-separated ids or
    texts, as ``--ada-delimiters``), a None temperature 0 (dVoting's 0.6 for its rounds)."""
    blocks = str(blocks or "")
    return RunRequest(prompt=str(prompt or ""), model=label, remasking=str(remasking),
                      blocks=parse_blocks(blocks) if blocks.strip() else None,
                      gen_length=limits.as_int(gen_length, "gen_length") or None,
                      steps=limits.as_int(steps, "steps") or None,
                      temperature=None if temperature is None
                      else limits.as_float(temperature, "temperature"),
                      seeds=limits.as_int(seeds, "seeds"), baselines=bool(baselines),
                      sampler=str(sampler or "fixed"), edit=parse_edit(edit),
                      edit_scope=str(edit_scope or "").strip() or None,
                      cache=str(cache), task=str(task).strip() or None,
                      length=str(length or "fixed"),
                      length_options=given_length_options(length_options or {}),
                      ada_block_length=limits.as_int(ada_block_length or 0,
                                                     "ada_block_length") or None,
                      ada_delimiters=tuple(str(ada_delimiters or "").split()) or None,
                      strategy=str(strategy or "hex"), rounds=limits.as_int(rounds, "rounds"),
                      entropy_threshold=limits.as_float(entropy_threshold, "entropy_threshold"))


def last(runs: Iterator[record.Run]) -> record.Run:
    """The last of a run's snapshots, the complete one (the others are dropped as they come)."""
    run = None
    for run in runs:
        pass
    if run is None:
        raise ValueError("the decode gave no run")
    return run


def wire(runner: Runner, label: str) -> None:
    """``/run`` on the model ``label`` (the app's first)."""
    gr.api(endpoint(runner, label), api_name="run", concurrency_limit=RUNS_AT_ONCE,
           concurrency_id="run")


def endpoint(runner: Runner, label: str) -> Callable[..., dict]:
    """The function behind ``/run``: its signature is the API's parameters and defaults."""
    def api_run(prompt: str, blocks: str = "", remasking: str = "low_confidence",
                gen_length: int = 0, steps: int = 0, temperature: float | None = None,
                seeds: int = 1, baselines: bool = True, sampler: str = "fixed",
                edit: str = "", cache: str = "none", task: str = "", length: str = "fixed",
                initial_length: int | None = None, expansion_factor: int | None = None,
                high_conf_threshold: float | None = None,
                eos_check_tokens: int | None = None,
                low_conf_threshold: float | None = None,
                eos_confidence_threshold: float | None = None,
                expand_eos_confidence_threshold: float | None = None,
                low_density_threshold: float | None = None,
                high_density_threshold: float | None = None, scheduler: str | None = None,
                max_adjust_steps: int | None = None, eos_signal: str | None = None,
                ada_block_length: int = 0, ada_delimiters: str = "", strategy: str = "hex",
                rounds: int = DVOTING_ROUNDS,
                entropy_threshold: float = DVOTING_ENTROPY_THRESHOLD,
                edit_scope: str = "") -> dict:
        """Decode ``prompt`` with HEX experts and return the run's JSON (the CLI's --json);
        ``sampler`` is NAME[:VALUE] as in the CLI, ``edit`` an editing threshold ("" the
        model's default, "off" none), ``edit_scope`` block or answer the tokens it may replace
        ("" the model's), ``cache`` prefix or dual decodes with a block KV cache
        (its ``config.cache`` says whether the model had one), ``task`` a task's prompt
        protocol and parser ("" the model's own format), ``length`` daedal or rho-eos a
        canvas that grows and shrinks up to ``gen_length``, with the CLI's settings of the
        same names (None: the authors' default, fitted to ``gen_length``). ``blocks`` takes
        the CLI's ``--blocks``: sizes, schedules (8+8+16+32+64), grow, shrink, ada, ada:T;
        ``ada_block_length`` and ``ada_delimiters`` (space-separated token ids or texts) are
        AdaBlock's fallback block and delimiters (0 and "": the model's defaults).
        ``strategy`` seeds samples one block schedule ``seeds`` times, dvoting decodes
        dVoting's ``rounds`` at ``entropy_threshold`` (docs/strategies.md); ``temperature``
        None is 0, or dVoting's 0.6 for its rounds."""
        given = locals()  # the growing canvas's settings, by name
        options = {o.name: given[o.name] for o in CANVAS_OPTIONS}
        request = user_errors("reading the arguments", api_request, label, prompt, blocks,
                              remasking, gen_length, steps, temperature, seeds, baselines,
                              sampler, edit, cache, task, length, options,
                              ada_block_length, ada_delimiters, strategy, rounds,
                              entropy_threshold, edit_scope)
        run = user_errors("decoding", last, runner.run(request))
        result = record.run_to_json(run)
        if run.replayed:  # served from a stored or recent identical run, not decoded again
            result["replayed"] = run.replayed
        del run
        limits.release_memory_soon()
        return result

    return api_run
