"""Recording diffusers' LLaDA2Pipeline with BlockRefinementScheduler on a tiny random stand-in:
the record equals the pipeline's output and the scheduler's transfers, replays as a hexviz run,
and hexviz's own `bounded` sampler with editing decodes the same tokens."""

from __future__ import annotations

import pytest
import torch
from diffusers import BlockRefinementScheduler, LLaDA2Pipeline
from transformers import LlamaConfig, LlamaForCausalLM

from hexviz.decode.assemble import decode
from hexviz.imports.diffusers import NOT_RECORDED, DiffusersRecorder
from hexviz.models.tokens import SpecialTokens
from hexviz.models.wrapper import DiffusionLM
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.runs import events as ev
from hexviz.runs.record import dumps, loads

GEN, BLOCK, PER_BLOCK = 32, 8, 4
THRESHOLD, EDIT, POST = 0.2, 0.2, 2  # early-filling blocks, edits after them


class StandIn(LlamaForCausalLM):
    """The interface LLaDA2Pipeline calls (ids, attention mask, position ids -> logits) on a
    random causal model: a block's logits depend on nothing after it, as LLaDA2's block-causal
    attention, so the pipeline's window and hexviz's whole canvas see the same. [MASK] is never
    proposed (hexviz removes its logit; the pipeline would otherwise sample it)."""

    mask_id = 0

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, **kwargs):
        out = super().forward(input_ids=input_ids, attention_mask=attention_mask,
                              position_ids=position_ids)
        out.logits[..., self.mask_id] = -1e4
        return out


@pytest.fixture(scope="module")
def stand_in(random_lm):
    tokenizer = random_lm.tokenizer
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=128, initializer_range=0.4,
                         pad_token_id=tokenizer.pad_token_id)
    model = StandIn(config).eval()
    model.mask_id = tokenizer.mask_token_id
    special = SpecialTokens(tokenizer.mask_token_id, tokenizer.eos_token_id, None)
    return DiffusionLM(model, tokenizer, "stand-in", special)


def record(lm, prompt: list[int], **kwargs):
    pipe = LLaDA2Pipeline(model=lm.model, scheduler=BlockRefinementScheduler(
        block_length=BLOCK, num_inference_steps=PER_BLOCK), tokenizer=lm.tokenizer)
    pipe.set_progress_bar_config(disable=True)
    rec = DiffusersRecorder(len(prompt), GEN, BLOCK, lm.mask_id)
    settings = dict(gen_length=GEN, block_length=BLOCK, num_inference_steps=PER_BLOCK,
                    threshold=THRESHOLD, editing_threshold=EDIT, max_post_steps=POST,
                    eos_early_stop=False, temperature=0.0, output_type="seq",
                    mask_token_id=lm.mask_id, eos_token_id=lm.special.end_of_text_id)
    settings.update(kwargs)
    with torch.no_grad():
        out = pipe(input_ids=torch.tensor([prompt]), callback_on_step_end=rec,
                   callback_on_step_end_tensor_inputs=rec.tensor_inputs, **settings)
    run = rec.runs(lm.tokenizer, [prompt], eos_id=lm.special.end_of_text_id,
                   threshold=settings["threshold"], editing_threshold=settings["editing_threshold"],
                   steps=PER_BLOCK, max_post_steps=settings["max_post_steps"])[0]
    return out.sequences[0].tolist(), rec, run


PROMPT = list(range(10, 10 + 2 * BLOCK))  # a whole number of blocks: both align blocks alike


def test_the_record_is_the_pipelines_output_and_its_transfers(stand_in):
    tokens, rec, run = record(stand_in, PROMPT)
    t = run.trajectories[0]
    assert t.token_ids.tolist() == tokens
    per_step = [int(((t.events.step == s) & (t.events.kind != ev.INSERT)).sum())
                for s in range(t.steps_taken)]
    assert per_step == rec.transfers and sum(rec.transfers) >= GEN
    assert len(t.edits) > 0, "the case must edit"
    assert (t.commits > 0).sum() < t.steps_taken, "and take editing steps after a block fills"
    assert run.source["not_recorded"] == list(NOT_RECORDED)


def test_hexviz_bounded_with_editing_decodes_the_same_tokens(stand_in):
    tokens, _, recorded = record(stand_in, PROMPT)
    config = DecodeConfig(GEN, PER_BLOCK * GEN // BLOCK, sampler=f"bounded:{THRESHOLD}",
                          edit=EDIT, edit_post_steps=POST)
    ours = decode(stand_in, PROMPT, [Expert(BLOCK)], config).trajectories[0]
    assert ours.token_ids.tolist() == tokens
    theirs = recorded.trajectories[0]
    assert ours.steps_taken == theirs.steps_taken
    assert ours.edits.tolist() == theirs.edits.tolist()
    assert ours.commits.tolist() == theirs.commits.tolist()


def test_without_post_steps_hexviz_stops_editing_with_the_block(stand_in):
    tokens, _, recorded = record(stand_in, PROMPT, max_post_steps=0)
    config = DecodeConfig(GEN, PER_BLOCK * GEN // BLOCK, sampler=f"bounded:{THRESHOLD}",
                          edit=EDIT)
    ours = decode(stand_in, PROMPT, [Expert(BLOCK)], config).trajectories[0]
    # diffusers still takes one editing step after a block that filled early; hexviz none
    assert ours.steps_taken < recorded.trajectories[0].steps_taken


def test_a_recorded_run_replays_from_its_json(stand_in):
    _, _, run = record(stand_in, PROMPT)
    back = loads(dumps(run))
    assert back.trajectories[0].token_ids.tolist() == run.trajectories[0].token_ids.tolist()
    assert back.source == run.source
    assert back.trajectories[0].draft_ids.shape == (run.steps_done, GEN)
    masked_now = back.trajectories[0].draft_ids[0] >= 0
    assert masked_now[:BLOCK].all() and not masked_now[BLOCK:].any()  # only the block's drafts


def test_diffusers_is_imported_only_by_whoever_records():
    import subprocess
    import sys

    code = ("import sys, hexviz.imports.diffusers, hexviz.app.ui; "
            "print('diffusers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_a_recorded_run_animates(stand_in, tmp_path):
    from hexviz.render import animate

    _, _, run = record(stand_in, PROMPT)
    out = animate.write(run, tmp_path / "llada2.html", animate.AnimationSettings("one", (), 8, 640))
    assert out.stat().st_size > 0 and "<html" in out.read_text()[:2000].lower()


def test_every_view_draws_a_recorded_run(stand_in):
    from hexviz.app.views import all_figures

    _, _, run = record(stand_in, PROMPT)
    figures = all_figures(run)
    assert {"reveal_order", "scrubber", "end_pressure", "canvas_length"} <= set(figures)
    assert all(len(fig.data) > 0 for fig in figures.values())
