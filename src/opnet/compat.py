"""What differs between the Python versions OpNet supports (3.10 and newer)."""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:

    class StrEnum(str, Enum):
        """Python 3.11's ``enum.StrEnum`` for 3.10: members are strings; ``str(member)`` is the value."""

        def __str__(self) -> str:
            return str(self.value)


__all__ = ["StrEnum"]
