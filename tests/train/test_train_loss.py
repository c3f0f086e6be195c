"""The trained-positions loss is Hugging Face's full-logits loss, computed on fewer rows."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from prtriage.train.base import load_model, resolve_base
from prtriage.train.batches import collate
from prtriage.train.loss import LossModel, full_logits_loss
from prtriage.train.masking import IGNORE, Tokenized

pytestmark = pytest.mark.train


def _item(ids: list[int], answer: int, input_weight: float) -> Tokenized:
    n = len(ids)
    labels = [IGNORE if (i < n - answer and input_weight == 0) else t for i, t in enumerate(ids)]
    weights = [1.0 if i >= n - answer else input_weight for i in range(n)]
    return Tokenized(tuple(ids), tuple(labels), tuple(weights), n - answer, None, "t", 1, 0)


@pytest.fixture(scope="module")
def model(tiny_hf: Path) -> torch.nn.Module:
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    m = get_peft_model(load_model(resolve_base(str(tiny_hf)), torch.float32),
                       LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False))  # fmt: skip
    return m.eval()


def _batch(input_weight: float) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    long = torch.randint(100, 40000, (40,), generator=g).tolist()
    short = torch.randint(100, 40000, (23,), generator=g).tolist()
    return collate([_item(long, 5, input_weight), _item(short, 3, input_weight)], pad_id=2)


def _grads(model: torch.nn.Module) -> list[torch.Tensor]:
    grads = [p.grad.clone() for p in model.parameters() if p.requires_grad and p.grad is not None]
    model.zero_grad(set_to_none=True)
    return grads


def test_masked_loss_equals_hf_loss_and_gradients(model: torch.nn.Module) -> None:
    batch = _batch(0.0)
    reference = full_logits_loss(model, batch["input_ids"], batch["attention_mask"], batch["labels"])
    reference.backward()
    want = _grads(model)
    loss_sum, weight = LossModel(model)(**batch)
    assert weight.item() == 8  # 5 + 3 answer tokens; padding and prompts carry no weight
    mean = loss_sum / weight
    mean.backward()
    got = _grads(model)
    assert torch.allclose(mean, reference, rtol=1e-5, atol=1e-6), (mean.item(), reference.item())
    assert len(got) == len(want) > 0
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-7) for a, b in zip(got, want))


def test_weighted_loss_is_the_weighted_mean_of_token_losses(model: torch.nn.Module) -> None:
    batch = _batch(0.1)
    with torch.no_grad():
        loss_sum, weight = LossModel(model)(**batch)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    ce = F.cross_entropy(logits[:, :-1].flatten(0, 1), batch["labels"][:, 1:].flatten(), reduction="none",
                         ignore_index=IGNORE)  # fmt: skip
    w = batch["weights"][:, 1:].flatten()
    assert weight.item() == pytest.approx(float(w.sum()))
    assert (loss_sum / weight).item() == pytest.approx(float((ce * w).sum() / w.sum()), rel=1e-5)
    # With weight 1 everywhere it is the standard loss over all tokens (train_on_inputs).
    full = _batch(1.0)
    with torch.no_grad():
        s, n = LossModel(model)(**full)
        ref = full_logits_loss(model, full["input_ids"], full["attention_mask"], full["labels"])
    assert (s / n).item() == pytest.approx(ref.item(), rel=1e-5)


def test_eval_continues_from_the_prompt_cache(model: torch.nn.Module) -> None:
    """Eval runs each prompt once; its answer loss and candidate scores match full forward passes."""
    from prtriage.train.scoring import candidate_logprobs, continuation_loss, run_prompt

    g = torch.Generator().manual_seed(2)
    prompt = torch.randint(100, 40000, (30,), generator=g).tolist()
    answer = torch.randint(100, 40000, (4,), generator=g).tolist()
    item = _item(prompt + answer, 4, 0.0)
    with torch.no_grad():
        want_sum, want_weight = LossModel(model)(**collate([item], pad_id=2))
        state = run_prompt(model, prompt)
        got_sum, got_weight = continuation_loss(model, state, answer, item.weights[30:])
        candidates = [[5], [7, 8], [9, 10, 11]]
        scores = candidate_logprobs(model, state, candidates)
        for cand, score in zip(candidates, scores):
            logits = model(input_ids=torch.tensor([prompt + cand])).logits[0].double()
            lp = torch.log_softmax(logits, dim=-1)
            assert score == pytest.approx(sum(float(lp[29 + k, t]) for k, t in enumerate(cand)), abs=1e-4)
    assert got_weight == want_weight.item() == 4
    assert got_sum == pytest.approx(want_sum.item(), rel=1e-5)
