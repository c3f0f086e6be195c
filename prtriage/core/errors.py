"""The one exception hierarchy and the one table of exit codes. `cli.main` maps exceptions to
these codes; nothing else exits."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAIL_ON = 1  # the category is in fail-on (or the commit type disagrees, --fail-on-mismatch)
EXIT_USAGE = 2  # bad flags, config or input
EXIT_CANNOT_TRIAGE = 3  # git, the model, the GitHub API; or a bug
# The change holds text addressed to the classifier and the result must not be trusted: with
# fail-on set (and in the hooks), unless `planted = "report"` (docs/security.md).
EXIT_PLANTED = 4
EXIT_INTERRUPTED = 130
EXIT_PIPE_CLOSED = 141  # stdout's reader went away (`| head`): 128 + SIGPIPE, as a shell reports it


class PrtriageError(Exception):
    """An error the user can act on: a one-line cause and an optional hint."""

    exit_code = EXIT_CANNOT_TRIAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(PrtriageError):
    """Bad flags, arguments or input files."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """Bad configuration: unknown key, wrong type, unknown category."""


class GitError(PrtriageError):
    """git could not give us the change (no repo, no base, empty diff...)."""


class ModelError(PrtriageError):
    """The model could not be found, loaded or run."""


class BudgetError(PrtriageError):
    """The change cannot be fitted into the model's context."""
