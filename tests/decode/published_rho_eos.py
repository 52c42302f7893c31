"""`models/LLaDA_rho_EOS.py` of yjyddq/rho-EOS at commit 9cb20c66f73546dc3b728e0c1e064a455b6eb4d6 (Apache-2.0), lines 38-521
verbatim: the published `generate` and its helpers, run by the parity tests in test_canvas.py.
Only the imports are ours (the lm-eval harness around it is left out)."""
# ruff: noqa
import torch
import torch.nn.functional as F
import torch.distributed as dist
from typing import List, Tuple

def add_gumbel_noise(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Add Gumbel noise to logits for sampling diversity."""
    if temperature == 0.0:
        return logits
    logits = logits.to(torch.float32)
    noise = torch.rand_like(logits, dtype=torch.float32)
    gumbel_noise = (-torch.log(noise)) ** temperature
    return logits.exp() / gumbel_noise


def _calculate_eos_confidence(
    logits: torch.Tensor,
    total_lengths: torch.Tensor,
    prompt_length: int,
    eos_token_id: int,
    eos_check_tokens: int,
) -> Tuple[torch.Tensor, None]:
    """
    Calculate average EOS confidence by scanning from the end of generation.

    Args:
        logits: Model output logits (B, L, V)
        total_lengths: Total sequence lengths per batch (B,)
        prompt_length: Length of the prompt
        eos_token_id: EOS token ID
        eos_check_tokens: Number of tokens to check for EOS

    Returns:
        Tuple of (eos_confidence tensor, None)
    """
    if eos_token_id is None:
        return torch.zeros(logits.shape[0], device=logits.device), None

    confidences = F.softmax(logits, dim=-1)
    predicted_tokens = torch.argmax(logits, dim=-1)
    batch_eos_confidences = []

    for i in range(logits.shape[0]):
        eos_confs_for_avg = []
        start_scan_pos = total_lengths[i].item() - 1
        end_scan_pos = prompt_length - 1

        for pos in range(start_scan_pos, end_scan_pos, -1):
            if len(eos_confs_for_avg) >= eos_check_tokens:
                break
            if predicted_tokens[i, pos] == eos_token_id:
                eos_confs_for_avg.append(confidences[i, pos, eos_token_id].item())

        avg_conf = sum(eos_confs_for_avg) / eos_check_tokens
        batch_eos_confidences.append(avg_conf)

    return torch.tensor(batch_eos_confidences, device=logits.device), None


def _calculate_eos_density(
    logits: torch.Tensor,
    currently_masked: torch.Tensor,
    eos_token_id: int,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """
    Calculate implicit EOS density among currently masked positions.

    Args:
        logits: Model output logits (B, L, V)
        currently_masked: Boolean mask of masked positions (B, L)
        eos_token_id: EOS token ID

    Returns:
        Tuple of (density, eos_count, non_eos_count, first_eos_position)
    """
    B, L, _ = logits.shape
    pred = torch.argmax(logits, dim=-1)

    is_eos = currently_masked & (pred == eos_token_id)
    mask_cnt = currently_masked.sum(dim=1)
    eos_cnt = is_eos.sum(dim=1)
    non_eos_cnt = mask_cnt - eos_cnt

    density = torch.zeros(B, device=logits.device, dtype=torch.float32)
    nonzero = mask_cnt > 0
    density[nonzero] = eos_cnt[nonzero].float() / mask_cnt[nonzero].float()

    # Find first EOS position
    ar = torch.arange(L, device=logits.device).unsqueeze(0).expand(B, -1)
    pos = ar.float().clone()
    pos[~is_eos] = float("inf")
    min_pos = pos.min(dim=1).values
    first_eos_pos = torch.where(
        torch.isfinite(min_pos),
        min_pos.long(),
        torch.full((B,), -1, device=logits.device, dtype=torch.long),
    )

    return density, eos_cnt.long(), non_eos_cnt.long(), first_eos_pos


def E_factor_func(
    density: torch.Tensor,
    base_expansion_factor: int,
    scheduler: str,
    low_density_threshold: float,
    high_density_threshold: float,
    density_interval: float = 0.1,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Compute expansion/contraction factor K and action based on implicit EOS density.

    Args:
        density: (B,) float tensor in [0,1]
        base_expansion_factor: base K unit (e.g., 8)
        scheduler: how multipliers grow with distance from threshold.
                  Supported:
                    - "const"   : always 1x
                    - "linear"  : 1,2,3,... with segment index
                    - "exp"  : 1,2,4,8,... with segment index  (recommended, matches your previous power behavior)
        low_density_threshold/high_density_threshold:
            keep if density in [low, high]; expand if < low; contract if > high
        density_interval:
            segment width in density units for the outside regions. Example: 0.10.
            For expand side, gap = low - density; seg_id = ceil(gap / density_interval).
            For contract side, gap = density - high; seg_id = ceil(gap / density_interval).

    Returns:
        K: (B,) long tensor (>=0)
        action: (B,) long tensor, 0 keep, 1 contract, 2 expand
    """
    if density_interval <= 0:
        raise ValueError("density_interval must be > 0")

    B = density.shape[0]
    device = density.device

    # action: 0 keep, 1 contract, 2 expand
    action = torch.zeros(B, dtype=torch.long, device=device)
    action = torch.where(density > high_density_threshold, torch.ones_like(action), action)
    action = torch.where(density < low_density_threshold, torch.full_like(action, 2), action)

    # distance (gap) to nearest threshold for outside region
    gap = torch.zeros_like(density)
    expand_mask = action == 2
    contract_mask = action == 1

    if expand_mask.any():
        gap[expand_mask] = (low_density_threshold - density[expand_mask]).clamp_min(0.0)
    if contract_mask.any():
        gap[contract_mask] = (density[contract_mask] - high_density_threshold).clamp_min(0.0)

    # Compute segment index
    eps = 1e-12
    seg_id = torch.zeros(B, dtype=torch.long, device=device)
    outside = action != 0
    if outside.any():
        seg_id[outside] = torch.ceil((gap[outside] + eps) / density_interval).long()

    # Compute multiplier based on scheduler
    if scheduler == "const":
        mult = torch.ones_like(seg_id)
    elif scheduler == "linear":
        mult = torch.clamp(seg_id, min=1)
    elif scheduler == "exp":
        mult = torch.where(seg_id > 0, (2 ** (seg_id - 1)).long(), torch.zeros_like(seg_id))
        mult = torch.clamp(mult, min=1)
    else:
        raise ValueError(f"Unknown scheduler: {scheduler}. Use: const, linear, exp")
    max_mult = 8
    mult = torch.clamp(mult, max=max_mult)

    K = (mult * base_expansion_factor).long()
    K = torch.where(action == 0, torch.zeros_like(K), K)

    return K, action


def _adjust_length_by_eos_density(
    x: torch.Tensor,                 # (B, L_cur)
    gen_lengths: torch.Tensor,       # (B,)
    prompt_length: int,
    density: torch.Tensor,           # (B,)
    first_eos_pos: torch.Tensor,     # (B,) in [0..L_cur-1] or -1
    expansion_factor: int,
    max_gen_length: int,
    scheduler: str,
    low_density_threshold: float,
    high_density_threshold: float,
    eos_token_id: int,
    mask_id: int,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """
    Adjust generation length based on implicit EOS density.

    Returns:
        Tuple of (new_x, new_gen_lengths, action)
    """
    device = x.device
    B, L_cur = x.shape

    K, action = E_factor_func(
        density=density,
        base_expansion_factor=expansion_factor,
        scheduler=scheduler,
        low_density_threshold=low_density_threshold,
        high_density_threshold=high_density_threshold,
        density_interval=0.1,
    )

    new_gen_lengths = gen_lengths.clone()
    expand_mask = action == 2
    if expand_mask.any():
        new_gen_lengths[expand_mask] = torch.clamp(
            gen_lengths[expand_mask] + K[expand_mask], max=max_gen_length
        )
    contract_mask = action == 1
    if contract_mask.any():
        new_gen_lengths[contract_mask] = torch.clamp(
            gen_lengths[contract_mask] - K[contract_mask], min=0
        )
    if (action == 0).all():
        return x, gen_lengths, action

    new_max_total_len = prompt_length + new_gen_lengths.max()
    new_x = torch.full((B, new_max_total_len), eos_token_id, dtype=torch.long, device=device)
    new_x[:, :prompt_length] = x[:, :prompt_length]

    for i in range(B):
        original_total_len = prompt_length + gen_lengths[i].item()

        if action[i].item() == 0:  # Keep
            new_x[i, :original_total_len] = x[i, :original_total_len]
        elif action[i].item() == 1:  # Contract
            new_total_len = prompt_length + new_gen_lengths[i].item()
            new_x[i, :new_total_len] = x[i, :new_total_len]
        elif action[i].item() == 2:  # Expand
            new_total_len = prompt_length + new_gen_lengths[i].item()
            new_x[i, :original_total_len] = x[i, :original_total_len]
            new_x[i, original_total_len:new_total_len] = mask_id

    return new_x, new_gen_lengths, action


@torch.no_grad()
def generate(
    model,
    prompt: torch.Tensor,
    tokenizer,
    initial_gen_length: int = 64,
    max_gen_length: int = 2048,
    block_length: int = 32,
    temperature: float = 0.0,
    cfg_scale: float = 0.0,
    high_conf_threshold: float = 0.90,
    low_conf_threshold: float = 0.10,
    expansion_factor: int = 8,
    mask_id: int = 126336,
    eos_token_id: int = 126081,
    eos_confidence_threshold: float = 0.5,
    expand_eos_confidence_threshold: float = 0.9,
    eos_check_tokens: int = 32,
    low_density_threshold: float = 0.4,
    high_density_threshold: float = 0.6,
    scheduler: str = "exp",
) -> List[torch.Tensor]:
    """
    LLaDA generate with dynamic length control based on EOS density over currently-masked positions.

    Change vs previous version:
      - One forward per loop iteration.
      - Flow: forward -> fill tokens (decode/denoise) -> compute EOS density from SAME logits -> expand/trim for next iteration.
      - No second forward after length edit (length edit affects NEXT iteration only).

    Args:
        model: The LLaDA model
        prompt: Input prompt tensor (B, L)
        tokenizer: Tokenizer instance
        initial_gen_length: Initial generation length
        max_gen_length: Maximum generation length
        block_length: Block size for iterative denoising
        temperature: Sampling temperature (0 for greedy)
        cfg_scale: Classifier-free guidance scale
        high_conf_threshold: Threshold for high confidence token filling
        low_conf_threshold: Threshold for low confidence detection
        expansion_factor: Base expansion/contraction factor
        mask_id: Mask token ID
        eos_token_id: EOS token ID
        eos_confidence_threshold: EOS confidence threshold
        expand_eos_confidence_threshold: Expansion EOS confidence threshold
        eos_check_tokens: Number of tokens to check for EOS confidence
        low_density_threshold: EOS density below this triggers expansion
        high_density_threshold: EOS density above this triggers contraction
        scheduler: Multiplier scheduler ("const", "linear", "power")

    Returns:
        List of generated sequences (including prompt)
    """
    def _rank0() -> bool:
        return (not (dist.is_available() and dist.is_initialized())) or dist.get_rank() == 0

    with torch.autocast(device_type="cuda"):
        batch_size = prompt.shape[0]
        device = prompt.device
        prompt_length = prompt.shape[1]
        assert eos_token_id is not None

        gen_lengths = torch.full((batch_size,), initial_gen_length, dtype=torch.long, device=device)
        x = torch.full((batch_size, prompt_length + initial_gen_length), mask_id, dtype=torch.long, device=device)
        x[:, :prompt_length] = prompt.clone()
        prompt_index = x != mask_id

        if _rank0():
            print("[rho-EOS] Starting generation with dynamic length control")

        current_pos = torch.full((batch_size,), prompt_length, dtype=torch.long, device=device)
        denoise_only_mode = torch.zeros(batch_size, dtype=torch.bool, device=device)

        max_decode_steps = max_gen_length
        max_adjust_length_steps = 64
        step = 0

        while (current_pos < prompt_length + gen_lengths).any():
            step += 1
            if step > max_decode_steps:
                if _rank0():
                    print(f"WARNING: reached max_decode_steps={max_decode_steps}, force stop.")
                break

            total_lengths = prompt_length + gen_lengths
            x_before_step = x.clone()
            old_shape = x.shape

            # Check if reached max length
            for i in range(batch_size):
                if gen_lengths[i] >= max_gen_length and not denoise_only_mode[i]:
                    if current_pos[i] < total_lengths[i]:
                        if _rank0():
                            print(f"Sequence {i} reached max length {max_gen_length}. Entering denoise-only mode.")
                        denoise_only_mode[i] = True

            # Check if exceeded max adjustment steps
            if step > max_adjust_length_steps:
                for i in range(batch_size):
                    denoise_only_mode[i] = True

            # Forward pass
            max_len = x.shape[1]
            arange_tensor = torch.arange(max_len, device=device).expand(batch_size, -1)
            attention_mask = (arange_tensor < total_lengths.unsqueeze(1)).long()

            if cfg_scale > 0.0:
                un_x = x.clone()
                un_x[prompt_index] = mask_id
                x_ = torch.cat([x, un_x], dim=0)
                attention_mask_ = torch.cat([attention_mask, attention_mask.clone()], dim=0)
                logits, un_logits = torch.chunk(model(x_, attention_mask=attention_mask_).logits, 2, dim=0)
                logits = un_logits + (cfg_scale + 1) * (logits - un_logits)
            else:
                logits = model(x, attention_mask=attention_mask).logits

            predicted_tokens = torch.argmax(add_gumbel_noise(logits, temperature), dim=-1)
            confidences = F.softmax(logits, dim=-1)
            predicted_confidences = torch.gather(confidences, dim=-1, index=predicted_tokens.unsqueeze(-1)).squeeze(-1)

            # Create block mask for current denoising window
            block_mask = torch.zeros_like(x, dtype=torch.bool, device=device)
            for i in range(batch_size):
                if current_pos[i] >= total_lengths[i]:
                    continue
                block_mask[i, current_pos[i]:min(current_pos[i] + block_length, total_lengths[i].item())] = True

            currently_masked = (x == mask_id)
            high_conf_indices = (
                (predicted_confidences > high_conf_threshold) &
                block_mask &
                currently_masked &
                (predicted_tokens != mask_id)
            )

            # Fallback: if no high confidence tokens, pick the best one
            for i in range(batch_size):
                if current_pos[i] >= total_lengths[i]:
                    continue
                start_idx, end_idx = current_pos[i], min(current_pos[i] + block_length, total_lengths[i].item())

                if not high_conf_indices[i, start_idx:end_idx].any():
                    valid_fallback_mask = block_mask[i] & currently_masked[i]
                    if not valid_fallback_mask.any():
                        continue

                    candidate_indices = torch.where(valid_fallback_mask)[0]
                    candidate_confs = predicted_confidences[i, candidate_indices]
                    candidate_tokens = predicted_tokens[i, candidate_indices]
                    sorted_confs, sort_indices = torch.sort(candidate_confs, descending=True)

                    best_idx_to_fill = -1
                    for sorted_idx in sort_indices:
                        if candidate_tokens[sorted_idx] != mask_id:
                            best_idx_to_fill = candidate_indices[sorted_idx]
                            break

                    if best_idx_to_fill != -1:
                        high_conf_indices[i, best_idx_to_fill] = True
                    else:
                        # Force pick best non-mask token
                        stuck_logits = logits[i, candidate_indices]
                        stuck_logits[:, mask_id] = -torch.inf
                        new_confidences = F.softmax(stuck_logits, dim=-1)
                        new_best_confs, new_best_tokens = torch.max(new_confidences, dim=-1)
                        best_of_best_local = torch.argmax(new_best_confs)
                        pos_to_fill = candidate_indices[best_of_best_local]
                        token_to_fill = new_best_tokens[best_of_best_local]
                        predicted_tokens[i, pos_to_fill] = token_to_fill
                        high_conf_indices[i, pos_to_fill] = True

            # Fill tokens
            x[high_conf_indices] = predicted_tokens[high_conf_indices]

            # Advance position
            for i in range(batch_size):
                total_len = prompt_length + gen_lengths[i]
                while current_pos[i] < total_len:
                    start_check = current_pos[i]
                    end_check = min(start_check + block_length, total_len)
                    if start_check == end_check:
                        break
                    if not (x[i, start_check:end_check] == mask_id).any():
                        current_pos[i] = end_check
                    else:
                        break

            # Compute EOS density and adjust length
            density, first_eos_pos = _calculate_eos_confidence(
                logits=logits,
                total_lengths=total_lengths,
                prompt_length=prompt_length,
                eos_token_id=eos_token_id,
                eos_check_tokens=eos_check_tokens
            )

            # In denoise-only mode, clamp density to keep range
            density = torch.where(
                denoise_only_mode,
                torch.clamp(density, min=low_density_threshold, max=high_density_threshold),
                density
            )

            new_x, new_gen_lengths, action = _adjust_length_by_eos_density(
                x=x,
                gen_lengths=gen_lengths,
                prompt_length=prompt_length,
                density=density,
                first_eos_pos=first_eos_pos,
                expansion_factor=expansion_factor,
                max_gen_length=max_gen_length,
                scheduler=scheduler,
                low_density_threshold=low_density_threshold,
                high_density_threshold=high_density_threshold,
                eos_token_id=eos_token_id,
                mask_id=mask_id,
            )

            if _rank0():
                dens_list = [round(d.item(), 4) for d in density]
                print(f"[Step {step}] density={dens_list} action={action.tolist()} gen={gen_lengths.tolist()} -> {new_gen_lengths.tolist()}")

            # Apply length change
            if (new_x.shape != x.shape) or (not torch.equal(new_gen_lengths, gen_lengths)) or (not torch.equal(new_x, x)):
                x = new_x
                gen_lengths = new_gen_lengths
                prompt_index = (x != mask_id)
                new_total_lengths = prompt_length + gen_lengths
                current_pos = torch.min(current_pos, new_total_lengths)

            # Stagnation check
            if torch.equal(x, x_before_step) and (x.shape == old_shape):
                if _rank0():
                    print("WARNING: Sequence state is stagnant, forcing generation to end.")
                break

        # Collect outputs
        final_outputs = []
        for i in range(batch_size):
            final_len = prompt_length + gen_lengths[i]
            final_outputs.append(x[i, :final_len])

        return final_outputs

