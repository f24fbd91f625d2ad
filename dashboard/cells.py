"""Table cells that are safe to open in a spreadsheet: no formula injection through a downloaded table."""

from __future__ import annotations

import re
from typing import Any

# A cell a spreadsheet would run as a formula when the table is downloaded (st.dataframe's CSV button, our exports).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?%?")


def spreadsheet_safe(value: Any) -> Any:
    """Text that begins like a formula (=HYPERLINK(...), +cmd, @SUM, -2+3) gets a leading apostrophe, as OWASP
    advises for CSV injection, so Excel shows it as text; numbers and plain signed figures ("-35.7%") stay."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_frame(frame: Any) -> Any:
    """A copy of a DataFrame whose text cells are spreadsheet-safe."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    out = frame.copy()
    for column in out.columns:
        if is_object_dtype(out[column]) or is_string_dtype(out[column]):
            out[column] = out[column].map(spreadsheet_safe)
    return out
