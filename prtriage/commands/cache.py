"""`cache info` and `cache clean`: what prtriage keeps under its cache folder, and removing it."""

from __future__ import annotations

import click

from prtriage.core import errors


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def info() -> int:
    from prtriage.pipeline.model_cache import cache_dir, cache_files
    from prtriage.pipeline.model_files import installed_default_model

    root = cache_dir()
    files = cache_files()
    click.echo(f"cache folder: {root}" + ("" if root.is_dir() else " (not made yet)"))
    for path, size in files:
        click.echo(f"  {_mb(size):>10}  {path.relative_to(root)}")
    click.echo(f"{len(files)} files, {_mb(sum(size for _, size in files))}")
    weights = installed_default_model()
    if weights is not None:  # the installed weights are the package's (or the hub cache's), not ours
        click.echo(
            f"default model weights (not cache clean's to remove): {weights} ({_mb(weights.stat().st_size)})"
        )
    return errors.EXIT_OK


def clean(everything: bool = False) -> int:
    from prtriage.pipeline.model_cache import cache_dir, clean_cache

    count, size, kept = clean_cache(everything)
    click.echo(f"removed {count} files ({_mb(size)}) from {cache_dir()}")
    if kept:
        click.echo(f"kept {', '.join(f'{name}/' for name in kept)} (--all removes them too)")
    return errors.EXIT_OK
