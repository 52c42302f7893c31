"""HEX eval.py's writer path, to make fixture files in its exact format: the records its
``evaluate`` builds and the ``json.dump`` its ``__main__`` makes, verbatim (imports aside) from
junos-ai-org/hex HEX/eval/eval.py at commit b714b9c61b8ab700261fed42cab5b2b8ff00a394 (Apache-2.0,
HEX/LICENSE): lines 181-213 (each batch's records), 396 and 403 (the file name) and 422-443 (the dump).

Ours, marked ``# ours``: the function around them, ``args`` (eval.py's argparse values, as
SimpleNamespace), the decoded texts, likelihoods and ground truths passed in (what the model,
tokenizer and dataset would give), one batch, and the metrics dict without torch's ``.item()``.
"""
# ruff: noqa
import json
from types import SimpleNamespace


def write_eval_file(output_dir, dataset, block_length, questions, prompts, generated_texts,  # ours
                    gt_answers, ll, intermdeiates=None, decoding="low_confidence",  # ours
                    gen_length=256, diffusion_steps=128, seed=42, kv_caching="baseline",  # ours
                    model_path="/home/work/MODELS/LLaDA-8B-Instruct", checkpoint_path="nope",  # ours
                    timestamp="20250922_101500", early_ban_steps=10):  # ours
    """The file eval.py writes for one block size; its path."""  # ours
    args = SimpleNamespace(output_dir=str(output_dir), dataset=dataset, model_path=model_path,  # ours
                           decoding=decoding, gen_length=gen_length,  # ours
                           diffusion_steps=diffusion_steps, block_length=block_length,  # ours
                           seed=seed, kv_caching=kv_caching, checkpoint_path=checkpoint_path,  # ours
                           early_ban_steps=early_ban_steps, dont_save=False)  # ours
    save_intermediate = intermdeiates is not None  # ours: evaluate's argument
    all_generations, total_processed, wall_times = [], 0, [1.25]  # ours: one batch
    total_latency = 42.0  # ours
    if True:  # ours: keeps the loop body's indentation
        if not save_intermediate:
            example_result = [
                {
                    "question": questions[j],
                    "prompt_input": prompts[j],
                    "generations": generated_texts[j],
                    "ground_truth": gt_answers[j],
                    # "intermediate_str": intermediate_output_strings, # OOM
                    # "intermediate_types": intermdeiates[j],
                    # "confidence_info": top_confidence_info[j],
                    "loglikelihood": ll[j],
                    # "loglikelihood_noAfterEoT": ll_noAfterEoT[j]
                }
                for j in range(len(gt_answers))
            ]

        else:
            example_result = [
                {
                    "question": questions[j],
                    "prompt_input": prompts[j],
                    "generations": generated_texts[j],
                    "ground_truth": gt_answers[j],
                    # "intermediate_str": intermediate_output_strings, # OOM
                    "intermediate_types": intermdeiates[j],
                    # "confidence_info": top_confidence_info[j],
                    "loglikelihood": ll[j],
                    # "loglikelihood_noAfterEoT": ll_noAfterEoT[j]
                }
                for j in range(len(gt_answers))
            ]

        all_generations.extend(example_result)

    metrics = {"wall_time": sum(wall_times) / len(wall_times), "generations": all_generations,  # ours
               "total_processed": len(all_generations)}  # ours
    model_name = args.model_path.split("/")[-1]

    filename = f"{args.output_dir}/{timestamp}_{args.dataset}_{model_name}_{args.decoding}_genlen{args.gen_length}_diffsteps{args.diffusion_steps}_block{args.block_length}_seed{args.seed}_kv{args.kv_caching}_generations.json"


    if not args.dont_save:
        with open(filename, "w") as f:
            json.dump(
                {
                    "generations": metrics["generations"],
                    "metrics": {
                        "wall_time": metrics["wall_time"],
                        "total_processed": metrics["total_processed"],
                    },
                    "model_path": args.model_path,
                    "checkpoint_path": args.checkpoint_path,
                    "gen_length": args.gen_length,
                    "diffusion_steps": args.diffusion_steps,
                    "block_length": args.block_length,
                    "total_latency": total_latency,
                    "early_ban_steps": args.early_ban_steps,
                },
                f,
                indent=2,
            )

    return filename  # ours
