"""Experiments with LeNet-5 variants (notebook 06): train one on a short budget, keep a record, rank the records.

* ``runs``           one config, one seed, a budget in batches: :func:`train_variant` -> :class:`RunRecord`
* ``leaderboard``    a session's runs, best first, saved as JSON: :class:`Leaderboard`
* ``variants``       the questions ``scripts/train_variants.py`` asks: :data:`REFERENCE_VARIANTS`, :func:`run_variants`
* ``variant_table``  its answers (``data/variants/results.json``), a run compared with them: :class:`VariantTable`
* ``files``          the JSON files, written atomically, read with a clear error: :class:`RunFileError`

Tables print through :mod:`lenet_utils.tables`; the loss curves draw with ``lessons.plots.plot_runs``.
The layer lab (``widgets/layer_lab.py``) is a thin front end over this package.
"""

from .files import RunFileError
from .leaderboard import Leaderboard, default_runs_path, load_runs
from .runs import BATCH_SIZE, DEFAULT_BUDGET, STEPS_PER_EPOCH, TRAIN_SIZE, RunRecord, budget_steps, train_variant
from .variant_table import Comparison, VariantResult, VariantTable, course_table, default_table_path, load_variant_table
from .variants import REFERENCE_VARIANTS, Variant, run_variants

__all__ = [
    "BATCH_SIZE", "DEFAULT_BUDGET", "REFERENCE_VARIANTS", "STEPS_PER_EPOCH", "TRAIN_SIZE", "Comparison", "Leaderboard",
    "RunFileError", "RunRecord", "Variant", "VariantResult", "VariantTable", "budget_steps", "course_table",
    "default_runs_path",
    "default_table_path", "load_runs", "load_variant_table", "run_variants",
    "train_variant",
]
