"""The one prompt format, shared by inference and training.

A change becomes Axolotl `input_output` segments: text pieces each marked trained (`label`) or
not. Each segment is tokenized on its own and the ids concatenated, by `tokenize_segments`, in
both training and inference, so the model is served exactly the token sequences it was trained
on. Only template segments (`special=True`) may contain control tokens; text that comes from a
change (title, description, file names, diff) is always tokenized as plain text, so a diff that
contains `<|im_end|>` cannot end the prompt early.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from prtriage.core.categories import Category

# ChatML, the template of SmolLM2-Instruct and Qwen2; a fine-tune learns it whatever the base.
SYSTEM_START = "<|im_start|>system\n"
TURN_END = "<|im_end|>\n"
USER_START = "<|im_start|>user\n"
ASSISTANT_START = "<|im_start|>assistant\n"
END_OF_ANSWER = "<|im_end|>"

ANSWER_PREFIX = '{"category": "'  # ends the input: category scoring starts right after it
REASONING_PREFIX = ', "reasoning": "'
NO_REASONING_END = "}"
REASONING_END = '"}'
# What a reasoning may contain: the grammar's string characters (no quote, backslash or control).
_REASONING_BAD = re.compile(r'["\\\x00-\x1f\x7f]')

# Two instruction formats. DEFINITIONS (v1's, and for any model that has not learned the
# categories: --adapter none, custom categories) lists every category with its definition and the
# answer format: about 210 tokens. NAMES (an adapter trained on fixed categories) is a task line
# and the names, 39 tokens, leaving the rest of the context to the change. An adapter's
# GGUF metadata says which one it was trained with (engine._trained_prompt).
DEFINITIONS = "definitions"
NAMES = "names"
PROMPT_FORMATS = (DEFINITIONS, NAMES)

INSTRUCTIONS = (
    "You triage pull requests. Read the change below and answer with the one category that "
    "describes it best, and one short sentence of reasoning grounded in the diff.\n\n"
    "Categories:\n{categories}\n\n"
    'Answer as JSON: {{"category": "<name>", "reasoning": "<one sentence>"}}'
)
NAMES_INSTRUCTIONS = "Classify the pull request as one of: {names}."  # 39 tokens with its ChatML turn


@dataclass(frozen=True)
class TrainedPrompt:
    """What an adapter was trained to read, as its GGUF metadata records it (strings, so that
    llama.cpp's metadata of a merged model shows them too)."""

    format: str
    categories: tuple[str, ...]
    context_size: int

    KEYS: ClassVar[tuple[str, str, str]] = (
        "prtriage.prompt.format",
        "prtriage.prompt.categories",
        "prtriage.prompt.context_size",
    )

    def metadata(self) -> dict[str, str]:
        values = (self.format, ",".join(self.categories), str(self.context_size))
        return dict(zip(self.KEYS, values))

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str]) -> TrainedPrompt | None:
        """None when the keys are absent (adapters from before them were trained on DEFINITIONS)."""
        if not all(k in meta for k in cls.KEYS):
            return None
        fmt, names, context = (meta[k] for k in cls.KEYS)
        if fmt not in PROMPT_FORMATS or not context.isdigit():
            return None
        return cls(fmt, tuple(n for n in names.split(",") if n), int(context))


@dataclass(frozen=True)
class Segment:
    text: str
    label: bool = False  # trained on (the answer) or masked (the input)
    special: bool = False  # template text: its control tokens are real control tokens

    def to_json(self) -> dict[str, object]:
        d: dict[str, object] = {"label": self.label, "text": self.text}
        if self.special:
            d["special"] = True
        return d


@dataclass(frozen=True)
class PromptChange:
    """A change as the prompt shows it, after the diff budget."""

    title: str
    body: str
    file_list: str
    diff: str


class Tokenizer(Protocol):
    """The model's own tokenizer: llama.cpp at inference, Hugging Face in training."""

    @property
    def bos_id(self) -> int | None:
        """The BOS id to put first, or None when the model's metadata says not to add one."""

    def tokenize(self, text: str, special: bool) -> list[int]:
        """Ids for `text`, no BOS/EOS added; control-token text is parsed only when `special`."""


def instructions_segment(categories: Sequence[Category], prompt_format: str = DEFINITIONS) -> Segment:
    if prompt_format == NAMES:
        task = NAMES_INSTRUCTIONS.format(names=", ".join(c.name for c in categories))
    elif prompt_format == DEFINITIONS:
        task = INSTRUCTIONS.format(categories="\n".join(f"- {c.name}: {c.definition}" for c in categories))
    else:
        raise ValueError(f"unknown prompt format {prompt_format!r}")
    return Segment(SYSTEM_START + task + TURN_END + USER_START, special=True)


def change_segments(change: PromptChange) -> list[Segment]:
    return [
        Segment(f"Title: {change.title.strip() or '(none)'}\n\n"),
        Segment(f"Description:\n{change.body.strip() or '(none)'}\n\n"),
        Segment(f"Changed files:\n{change.file_list.rstrip() or '(none)'}\n\n"),
        Segment(f"Diff:\n{change.diff.rstrip()}\n"),
    ]


def answer_start_segment() -> Segment:
    return Segment(TURN_END + ASSISTANT_START + ANSWER_PREFIX, special=True)


def input_segments(
    change: PromptChange, categories: Sequence[Category], prompt_format: str = DEFINITIONS
) -> list[Segment]:
    """Everything the model reads before it answers; the first segment is the same for all changes."""
    return [instructions_segment(categories, prompt_format), *change_segments(change), answer_start_segment()]


def category_segment(name: str) -> Segment:
    """The answer's first piece: scored for every category at inference, trained on in training."""
    return Segment(f'{name}"', label=True)


def reasoning_prefix_segment() -> Segment:
    return Segment(REASONING_PREFIX, label=True)


def clean_reasoning(text: str) -> str:
    """A reasoning the output grammar could have produced: one line, no quotes or backslashes."""
    return " ".join(_REASONING_BAD.sub(" ", text.replace('"', "'")).split())


def answer_segments(category: str, reasoning: str | None = None) -> list[Segment]:
    """The trained answer: `name"`, then `, "reasoning": "..."}` when a reasoning is given."""
    if reasoning is None:
        tail = [Segment(NO_REASONING_END, label=True)]
    else:
        body = Segment(clean_reasoning(reasoning) + REASONING_END, label=True)
        tail = [reasoning_prefix_segment(), body]
    return [category_segment(category), *tail, Segment(END_OF_ANSWER, label=True, special=True)]


def example_segments(
    change: PromptChange, categories: Sequence[Category], category: str, reasoning: str | None = None,
    prompt_format: str = DEFINITIONS,
) -> list[Segment]:  # fmt: skip
    """A training example: the inference input followed by the answer."""
    return [*input_segments(change, categories, prompt_format), *answer_segments(category, reasoning)]


def tokenize_segments(segments: Sequence[Segment], tokenizer: Tokenizer) -> list[list[int]]:
    """Each segment's ids, tokenized separately; the BOS policy adds the BOS to the first one."""
    pieces = [tokenizer.tokenize(s.text, special=s.special) for s in segments]
    if tokenizer.bos_id is not None and pieces:
        pieces[0] = [tokenizer.bos_id, *pieces[0]]
    return pieces


def answer_json(category: str, reasoning: str) -> str:
    """The final object, as the answer text spells it (the grammar guarantees it parses)."""
    text = ANSWER_PREFIX + category + '"' + REASONING_PREFIX + reasoning + REASONING_END
    json.loads(text)  # a broken invariant must fail loudly, never print invalid JSON
    return text
