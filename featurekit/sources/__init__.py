"""Sources into an EntitySet: SQL databases (``from_database``) and folders of parquet/CSV
files (``from_directory``), each with a report of what was read, inferred and left out."""

from featurekit.sources.database import from_database
from featurekit.sources.directory import KEY_SHARE, from_directory
from featurekit.sources.report import SourceReport
from featurekit.sources.sql_types import SQL_TYPE_RULES, logical_type_of

__all__ = ["KEY_SHARE", "SQL_TYPE_RULES", "SourceReport", "from_database", "from_directory",
           "logical_type_of"]
