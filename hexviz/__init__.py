"""hexviz: explore how masked diffusion LMs decode, and HEX (hidden semi-autoregressive experts).

The folders are floors; each imports only the floors below it (`tests/test_boundaries.py`
keeps this true, with no exception):

    app/        the Gradio app: `ui` builds the demo from `tabs/` (one file per tab), `views`
                (one registry entry per chart), `runner` serves requests, `loading` keeps the
                models, `zerogpu` wraps a Space's GPU calls                  -> everything below
    cli.py      `hexviz run | eval | animate | import`; `showcase.py` builds the lesson's and
                gallery's stored runs and the README animation               -> everything below
    imports/    runs made elsewhere: a diffusers dLLM pipeline recorded as it decodes, the HEX
                authors' generation files read as eval records; diffusers only when used
                                  -> eval.records/scoring, runs, policy, tasks, limits, tokens
    render/     pure renderers of runs: Plotly `figures` (and their shared `plotting`), the
                `animate` GIF/HTML player, the `palette`, the position `states`, a growing
                canvas's `timeline` and views (`growing`), the lesson's chapters, answer
                panels, text that fits (`textfit`); no torch, no gradio
                                          -> eval.records/scoring, runs, policy, tasks, limits, paths
    eval/       a dataset decoded in batches (`batch`), its `records`, `scoring`, `report`
                                                          -> decode, runs, policy, tasks, limits
    decode/     `plan` (one planner for every front door) -> `engine` (the batched loop: tokens
                and what each step did) -> `assemble` (texts, answers by the task, walls,
                likelihoods, the vote); `cache`, `likelihood`
                                                  -> models, runs, policy, tasks, limits
    runs/       the record of a decode (`record`), its schema, order metrics, the vote, the
                stored-run `gallery`; numpy only      -> policy, models.tokens, limits, paths
    policy/     `settings` (Expert, DecodeConfig), remasking `rules`, `samplers`, `schedule`;
                no torch at import                                                  -> limits
    models/     loading any masked LM, the native LLaDA, special tokens, the KV cache -> paths
    tasks/      prompts, dataset readers, answer parsers                           (nothing)
    limits/     the operator's limits, split by what they bound                    (nothing)
    paths.py    where the shipped assets lie                                       (nothing)
    train/      the built-in model's task, training and card; nothing imports it

Data goes one way: plan -> decode -> assemble -> consumers (render, app, cli, eval scoring).
"""

__version__ = "0.1.0"
