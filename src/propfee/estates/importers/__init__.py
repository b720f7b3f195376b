"""Import kinds of the estates app, one module each: estates (项目), units (房屋) and parties
(业主/住户). Importing this package registers them; core/importing discovers it by name."""

from propfee.core.importing import import_kind_register
from propfee.estates.importers.estates import ESTATE_COLUMNS, ESTATES_IMPORT
from propfee.estates.importers.parties import PARTIES_IMPORT, PARTY_COLUMNS
from propfee.estates.importers.scope import ImportScope
from propfee.estates.importers.units import UNIT_COLUMNS, UNITS_IMPORT

# In the order the import page and `propfee import --help` list them.
for _kind in (ESTATES_IMPORT, UNITS_IMPORT, PARTIES_IMPORT):
    import_kind_register(_kind)

__all__ = [
    "ESTATES_IMPORT",
    "ESTATE_COLUMNS",
    "PARTIES_IMPORT",
    "PARTY_COLUMNS",
    "UNITS_IMPORT",
    "UNIT_COLUMNS",
    "ImportScope",
]
