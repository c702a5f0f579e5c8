"""The ways rows reach a dataset (see publisher.py for what each does). Kept apart from the engine
so specs and the CLI can name them without loading pandas and pyarrow."""

from __future__ import annotations

from typing import Literal, get_args

Method = Literal["upsert", "replace", "append", "sync"]
METHODS: tuple[str, ...] = get_args(Method)
