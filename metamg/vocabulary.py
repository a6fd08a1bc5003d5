"""Every list of names metamg accepts, in one place and import-free.

The command line's choices, the metadata's validation, the templates and the library read their
names from here; ``tests/test_vocabulary.py`` checks each list against the registry that
implements the names (``MEASURES``, ``TAU2_ESTIMATORS``, ``PROFILES``, ...), so a name cannot
be offered that nothing implements, nor implemented without being offered. Importing this
module costs nothing, so the CLI can build its help from it without loading numpy.
"""

from __future__ import annotations

# -- effect measures (metafor's escalc names), by the data type they need ---------------------
MEASURES = ("OR", "RR", "RD", "MD", "SMD", "ROM", "ZCOR", "COR", "PLO", "PR", "GEN", "HR")
DATA_TYPES = ("binary", "continuous", "generic", "correlation", "proportion", "oe")

# -- pooling --------------------------------------------------------------------------------
# aliases of the common-effect (equal-effects) model; IV stays inverse-variance under a profile
# whose common-effect model for binary data is Mantel-Haenszel (revman5)
COMMON_EFFECT = ("FE", "EE", "CE", "IV")
TAU2_ESTIMATORS = ("DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS")
# pool 2x2 tables directly; MH-DL: RevMan 5's Mantel-Haenszel random effects (DerSimonian-Laird
# tau² from the Mantel-Haenszel Chi², with RevMan's zero-cell rules)
TABLE_METHODS = ("MH", "PETO", "MH-DL")
METHODS = COMMON_EFFECT + TAU2_ESTIMATORS + TABLE_METHODS
REGRESSION_METHODS = ("FE",) + TAU2_ESTIMATORS  # what a meta-regression can be fitted with
CI_METHODS = ("wald", "hk", "hk-adhoc")  # z; Hartung-Knapp-Sidik-Jonkman; its ad hoc form
PI_RULES = ("default", "hts")  # metafor's predict(); t(k-2) (Higgins et al. 2009)
PROFILES = ("cochrane", "metafor", "revman5")

# -- the Bayesian model (metamg bayes): priors by the names of their specs ------------------
TAU_PRIORS = ("halfnormal", "halfcauchy", "uniform", "lognormal", "logt", "jeffreys", "improper_uniform")
MU_PRIORS = ("flat", "normal")
DEFAULT_PROFILE = "cochrane"

# -- study tables ---------------------------------------------------------------------------
CONTINUITY_RULES = ("only0", "all", "if0all", "none")  # metafor's escalc(to=)
MULTI_ARM_RULES = ("combine", "split")  # Cochrane Handbook 23.3.4
TEMPLATE_TYPES = ("binary", "continuous", "effect", "generic")  # what `metamg new` writes
# Ordered from the best-verified to the least; reports treat the first two as verified.
EVIDENCE_STATUSES = ("full-text", "abstract", "secondary-source", "derived", "unverified-claim")
VERIFIED_STATUSES = ("full-text", "abstract")
STATUS_COLUMN = "evidence_status"
PROVENANCE_COLUMNS = ("source", "doi", "pmid", "where_found", STATUS_COLUMN, "notes")

# -- metadata -------------------------------------------------------------------------------
BENEFIT = ("lower", "higher")  # which direction of the effect favours the intervention
CLAIM_DIRECTIONS = ("benefit", "harm")
GRADE_DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
GRADE_RATINGS = ("not serious", "serious", "very serious")
GRADE_LEVELS = ("very low", "low", "moderate", "high")
DESIGNS = ("randomised", "observational")

# -- outputs --------------------------------------------------------------------------------
FIGURE_FORMATS = ("png", "svg", "pdf")  # by the output file's suffix
# metamg report --format: Markdown is always written (the others are made from it)
REPORT_FORMATS = ("md", "html", "docx", "pdf")
DEFAULT_REPORT_FORMATS = ("md", "html")
# auto: sized to the content; slide: 16:9, large type; page: an A4/Letter text column
FIGURE_SIZES = ("auto", "slide", "page")
DEFAULT_FIGURE_SIZE = "auto"
# cochrane: RevMan's columns (raw data, effect, weight, risk of bias); compact: JAMA's (study,
# effect with CI, weight)
FOREST_LAYOUTS = ("cochrane", "compact")
DEFAULT_FOREST_LAYOUT = "cochrane"
TEXT_FORMATS = ("text", "json", "csv")

# RevMan's stored results of an analysis or subgroup (metamg import; the metadata's [published])
REVMAN_RESULTS = (
    "effect",
    "ci_lower",
    "ci_upper",
    "tau2",
    "chi2",
    "df",
    "p_chi2",
    "i2",
    "z",
    "p_z",
    "events_1",
    "total_1",
    "events_2",
    "total_2",
    "weight",
    "studies",
)
