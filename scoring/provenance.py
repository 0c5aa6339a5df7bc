"""Where every summary cell comes from: a frame of sources shaped like each summary, and the
long provenance frame (one row per cell: dimension, org, indicator, value, source) that the
store's ``summaries`` table holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ("dimension", "org", "indicator", "value", "source")


def sources_like(table: pd.DataFrame, by_org) -> pd.DataFrame:
    """Sources shaped like ``table``: one per org (a Series by org) or one for every cell."""
    values = np.empty(table.shape, dtype=object)
    values[:] = (by_org.reindex(table.index).to_numpy()[:, None]
                 if isinstance(by_org, pd.Series) else by_org)
    return pd.DataFrame(values, index=table.index, columns=table.columns)


def provenance(tables: dict, sources: dict) -> pd.DataFrame:
    """One row per summary cell, table by table, org by org, in column order."""
    parts = []
    for name, table in tables.items():
        values = table.stack()
        parts.append(pd.DataFrame({
            "dimension": name, "org": values.index.get_level_values(0),
            "indicator": values.index.get_level_values(1),
            "value": values.to_numpy(dtype=object),
            "source": sources[name].stack().reindex(values.index).to_numpy()}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
