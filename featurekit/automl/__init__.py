"""Training, refinement and evaluation on featurekit's matrices: compare models, tune them,
evaluate the chosen one and test it against the process it replaces, leak-free by time.

Every function validates on folds that are later in time than their training rows
(``fk.CutoffTimeSplit`` by default) and reads the task from the target unless told.
"""

from featurekit.automl.abtest import ABTestResult, ab_test
from featurekit.automl.compare import compare_models
from featurekit.automl.evaluate import evaluate
from featurekit.automl.models import PrepareColumns, default_models
from featurekit.automl.report import EvaluationReport
from featurekit.automl.tune import TuneResult, tune

__all__ = ["ABTestResult", "EvaluationReport", "PrepareColumns", "TuneResult", "ab_test",
           "compare_models", "default_models", "evaluate", "tune"]
