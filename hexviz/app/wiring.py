"""The app's events: settings become requests for the runner, runs become views; every
failure reaches the user as one line and the app stays up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from hexviz import limits
from hexviz.app import plots, teach
from hexviz.app.format import OWN_FORMAT, one_line
from hexviz.app.layout import Explore, LengthControls, Scaling
from hexviz.app.runner import Runner, RunRequest
from hexviz.app.views import (Views, full_views, partial_views, replay, scaling_from_file,
                              scaling_views)
from hexviz.decode.settings import parse_blocks
from hexviz.runs import record


def user_errors(what: str, fn: Callable, *args) -> Any:
    """``fn(*args)`` with failures as messages: bad settings as they are, anything else as
    ``what`` failed, so the app stays up and the user sees what went wrong."""
    try:
        return fn(*args)
    except gr.Error:
        raise
    except ValueError as err:
        raise gr.Error(one_line(err)) from None
    except Exception as err:  # noqa: BLE001  one line, whatever failed
        raise gr.Error(f"{what} failed: {one_line(err)}") from None


def edit_value(edit) -> float | None:
    """The editing threshold from a form or the API: blank, None or "" is no editing."""
    if edit is None or (isinstance(edit, str) and not edit.strip()):
        return None
    return limits.as_float(edit, "edit")


def run_request(prompt, model, blocks, rule, gen_length, steps, temperature, seeds, forbid,
                end_last, baselines, sampler="fixed", edit=None, cache="none",
                task=None) -> RunRequest:
    """The Explore view's settings as a request (validated as it is made)."""
    return RunRequest(prompt=prompt or "", model=model, blocks=parse_blocks(blocks or []),
                      remasking=rule, gen_length=int(gen_length), steps=int(steps),
                      temperature=float(temperature), seeds=int(seeds),
                      forbid_end_of_text=bool(forbid), end_tokens_last=bool(end_last),
                      baselines=bool(baselines), sampler=str(sampler or "fixed"),
                      edit=edit_value(edit), cache=str(cache or "none"),
                      task=None if task in (None, "", OWN_FORMAT) else str(task))


def api_request(label: str, prompt: str, blocks: str, remasking: str, gen_length: int,
                steps: int, temperature: float, seeds: int, baselines: bool,
                sampler: str = "fixed", edit: float | str | None = None,
                cache: str = "none", task: str = "") -> RunRequest:
    """The API's arguments as a request: "" blocks is the HEX set, 0 the model's defaults,
    "" task the model's own format."""
    blocks = str(blocks or "")
    return RunRequest(prompt=str(prompt or ""), model=label, remasking=str(remasking),
                      blocks=parse_blocks(blocks) if blocks.strip() else None,
                      gen_length=limits.as_int(gen_length, "gen_length") or None,
                      steps=limits.as_int(steps, "steps") or None,
                      temperature=limits.as_float(temperature, "temperature"),
                      seeds=limits.as_int(seeds, "seeds"), baselines=bool(baselines),
                      sampler=str(sampler or "fixed"), edit=edit_value(edit),
                      cache=str(cache), task=str(task).strip() or None)


def wire_explore(runner: Runner, tab: Explore) -> None:
    views = tab.views

    def keyed(v: Views) -> dict:
        return {views[name]: value for name, value in v.items()}

    def on_run(prompt, model, blocks, rule, gen_length, steps, temperature, seeds, forbid,
               end_last, baselines, sampler, edit, cache, task,
               progress=gr.Progress()) -> Iterator[dict]:
        request = user_errors("reading the settings", run_request, prompt, model, blocks, rule,
                              gen_length, steps, temperature, seeds, forbid, end_last, baselines,
                              sampler, edit, cache, task)
        waiting = getattr(runner, "is_loading", lambda _: False)(model)
        progress(0, desc="waiting for the model to finish loading" if waiting
                 else "loading model and decoding")
        runs = iter(runner.run(request))  # a generator: decoding starts at the first next()
        while (run := user_errors("decoding", next, runs, None)) is not None:
            progress((run.steps_done, run.config.step_cap), desc="decoding", unit="steps")
            if run.complete and run.config.cache != request.cache:
                gr.Warning(f"this model has no block KV cache: the {request.cache} cache was "
                           "not used, the run is exact")
            yield keyed(full_views(run) if run.complete else partial_views(run))
        limits.release_memory()  # the views are sent; memory returns to its level

    def on_admit(*settings) -> list[dict]:
        """Gradio's validator, run before the queue: a run ZeroGPU cannot fit waits for
        nothing; the message shows on the question box."""
        valid = [gr.validate(True, "")] * len(settings)
        try:
            request = run_request(*settings)
        except ValueError:  # bad settings are reported by on_run, as before
            return valid
        try:
            getattr(runner, "admit", lambda _: None)(request)
        except limits.LimitError as err:
            return [gr.validate(False, str(err)), *valid[1:]]
        return valid

    def on_pick(label, run) -> Any:
        if run is None or label not in plots.row_labels(run):
            return gr.skip()
        return plots.unmasking_map(run, plots.row_labels(run).index(label))

    def on_model(label) -> tuple:  # the length controls follow the model
        c = LengthControls.of(runner, label)
        return (gr.update(choices=c.choices, value=c.gen_length), gr.update(value=c.steps),
                gr.update(choices=c.blocks, value=c.experts))

    def on_gen_length(label, gen_length) -> tuple:
        c = LengthControls.of(runner, label, int(gen_length))
        return gr.update(choices=c.blocks, value=c.experts), gr.update(value=c.steps)

    def on_blocks(label, gen_length, blocks) -> Any:  # whole steps for every ticked expert
        return gr.update(value=LengthControls.of(runner, label, int(gen_length), blocks).steps)

    outputs = list(views.values())
    tab.run_button.click(on_run, tab.settings.inputs(), outputs, api_visibility="private",
                         validator=on_admit)
    tab.upload.upload(lambda path: keyed(replay(path)), [tab.upload], outputs,
                      api_visibility="private")
    views["pick"].change(on_pick, [views["pick"], views["run"]], [views["map"]],
                         api_visibility="private")
    c = tab.settings
    c.model.input(on_model, [c.model], [c.gen_length, c.steps, c.blocks],
                  api_visibility="private")
    # .input, not .change: loading a stored run's settings must not reset blocks and steps
    c.gen_length.input(on_gen_length, [c.model, c.gen_length], [c.blocks, c.steps],
                       api_visibility="private")
    c.blocks.input(on_blocks, [c.model, c.gen_length, c.blocks], [c.steps],
                   api_visibility="private")
    wire_pressure_pick(tab)


def wire_pressure_pick(tab: Explore) -> None:
    """The pressure chart shows the experts ticked above it (a readable few by default)."""
    state, plot = tab.views["run"], tab.views["pressure"]

    def on_run(run) -> Any:
        if run is None:
            return gr.skip()
        labels = plots.row_labels(run)
        return gr.update(choices=labels, value=[labels[i] for i in plots.default_pressure_rows(run)])

    def on_pick(chosen, run) -> Any:
        if run is None:
            return gr.skip()
        labels = plots.row_labels(run)
        return plots.end_pressure(run, [i for i, label in enumerate(labels) if label in chosen])

    state.change(on_run, [state], [tab.pressure_pick], api_visibility="private")
    tab.pressure_pick.input(on_pick, [tab.pressure_pick, state], [plot], api_visibility="private")


def keyed_views(tab: Explore) -> teach.Show:
    """A run -> every Explore view, keyed by component (for the lesson and the gallery)."""
    return lambda run: {tab.views[name]: value for name, value in full_views(run).items()}


def wire_scaling(runner: Runner, tab: Scaling, model: gr.Dropdown) -> None:
    def on_eval(model, problems, seeds, temperature, progress=gr.Progress()) -> tuple:
        report = lambda done, total: progress((done, total), unit="problems")  # noqa: E731
        results = user_errors("the eval", runner.evaluate, model, int(problems), int(seeds),
                              float(temperature), report)
        return scaling_views(results)

    outputs = [tab.plot, tab.table]
    tab.results_file.upload(scaling_from_file, [tab.results_file], outputs,
                            api_visibility="private")
    tab.button.click(on_eval, [model, tab.problems, tab.seeds, tab.temperature], outputs,
                     api_visibility="private")


def wire_api(runner: Runner, label: str) -> None:
    def api_run(prompt: str, blocks: str = "", remasking: str = "low_confidence",
                gen_length: int = 0, steps: int = 0, temperature: float = 0.0,
                seeds: int = 1, baselines: bool = True, sampler: str = "fixed",
                edit: str = "", cache: str = "none", task: str = "") -> dict:
        """Decode ``prompt`` with HEX experts and return the run's JSON (the CLI's --json);
        ``sampler`` is NAME[:VALUE] as in the CLI, ``edit`` an editing threshold ("" none),
        ``cache`` prefix or dual decodes with a block KV cache (its ``config.cache`` says
        whether the model had one), ``task`` a task's prompt protocol and parser ("" the
        model's own format)."""
        request = user_errors("reading the arguments", api_request, label, prompt, blocks,
                              remasking, gen_length, steps, temperature, seeds, baselines,
                              sampler, edit, cache, task)
        *_, run = user_errors("decoding", list, runner.run(request))
        result = record.run_to_json(run)
        del run
        limits.release_memory()
        return result

    gr.api(api_run, api_name="run")
