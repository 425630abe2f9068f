"""Jinja's sandbox, bounded: no huge powers or repetitions, and no constant folding.

Jinja folds constant expressions when it compiles a template, outside the sandbox's operator
checks, so ``{{ 9**9**9 }}`` would hang a worker while compiling. These environments compile
without folding, and every ``**`` and ``*`` goes through :meth:`BoundedSandbox.call_binop`.
"""

from __future__ import annotations

from typing import Any

from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_RENDERED_CHARACTERS = 100_000  # far beyond any email; a cap for preview, save and sending
MAX_EXPONENT = 64
MAX_INT_BITS = 1024


class BoundedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*"})

    def __init__(self, **options: Any) -> None:
        super().__init__(optimized=False, **options)

    def call_binop(self, context, operator: str, left, right):
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_product(left, right)
        return super().call_binop(context, operator, left, right)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_power(left, right) -> None:
    if _is_number(right) and abs(right) > MAX_EXPONENT:
        raise SecurityError("the exponent is too large")
    if isinstance(left, int) and left.bit_length() > MAX_INT_BITS:
        raise SecurityError("the number is too large")


def _check_product(left, right) -> None:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(count, int):
            if len(sequence) * count > MAX_RENDERED_CHARACTERS:
                raise SecurityError("the repetition is too long")
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise SecurityError("the number is too large")
