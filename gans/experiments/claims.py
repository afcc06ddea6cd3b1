"""The five papers' headline claims, as data: what each published, under which protocol, and the one
rule that turns a measurement into a verdict.

``gans reproduce`` (:mod:`gans.studies.reproduce`) runs what each claim needs at a scale
(:data:`SCALES`) and writes ``results.md`` / ``results.csv``: the published value beside ours, our
protocol, the cost and the verdict :func:`verdict` gives. Every number here is the paper's own (its
table, figure or sentence, named in ``source``); nothing is measured in this module, and it imports
no Keras.

Verdicts are one of :data:`VERDICTS`:

* ``reproduced``: our measurement meets the claim's rule;
* ``not reproduced``: it was measured and does not;
* ``not comparable``: it cannot be measured under a protocol the claim can be held to here (the
  extractor's weights or the data are missing, or the scale is too small for the quantity), with the
  reason in the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gans.errors import ConfigError

VERDICTS = ("reproduced", "not reproduced", "not comparable")
SCALES = ("smoke", "small", "full")
SCALE_HELP = {
    "smoke": "minutes: every claim's code path at a toy size (the tests run it); its numbers mean nothing",
    "small": "what a 2-core CPU finishes in a few hours in total, 3 training seeds where a claim is about training",
    "full": "the papers' own scale, for a GPU",
}


@dataclass(frozen=True)
class Rule:
    """How a measurement becomes a verdict, written once per claim.

    Kinds:
        ``at_least``: reproduced when ours >= published - ``tolerance`` (same unit).
        ``within``: reproduced when |ours - published| <= ``tolerance`` (same unit).
        ``between``: reproduced when ``low`` <= ours <= ``high``.
        ``equals``: reproduced when ours == published (a winner, a category).
        ``holds``: the claim is a statement; reproduced when our measurement says it holds (True).
    """

    kind: str
    tolerance: float = 0.0
    low: float | None = None
    high: float | None = None

    KINDS = ("at_least", "within", "between", "equals", "holds")

    def __post_init__(self):
        if self.kind not in self.KINDS:
            raise ConfigError(f"unknown rule kind {self.kind!r}; expected one of {', '.join(self.KINDS)}.")

    def describe(self, unit: str = "") -> str:
        """The rule in words, for ``results.md``."""
        u = " points" if unit == "%" else f" {unit}" if unit else ""
        if self.kind == "at_least":
            return f"ours >= published - {self.tolerance:g}{u}"
        if self.kind == "within":
            return f"|ours - published| <= {self.tolerance:g}{u}"
        if self.kind == "between":
            return f"{self.low:g} <= ours <= {self.high:g}{u}"
        if self.kind == "equals":
            return "ours == published"
        return "the measured statement holds"

    def judge(self, published, ours) -> bool:
        """Whether ``ours`` meets the rule against ``published``."""
        if self.kind == "at_least":
            return float(ours) >= float(published) - self.tolerance
        if self.kind == "within":
            return abs(float(ours) - float(published)) <= self.tolerance
        if self.kind == "between":
            return self.low <= float(ours) <= self.high
        if self.kind == "equals":
            return ours == published
        return bool(ours)


@dataclass(frozen=True)
class Claim:
    """One headline result of a paper.

    Attributes:
        id: the claim's name on the command line (``gans reproduce ccgan-agreement``).
        paper: the seed it comes from: "thesis" (seed 003), "004", "002", "000" or "001".
        source: where the paper states it (table, figure, section).
        metric: what is measured, in words.
        published: the paper's value (a number in ``unit``, a winner, or True for a statement).
        unit: "%", "FID", "components", "rho", "" ...
        statement: the claim in one sentence, as the paper makes it.
        protocol: the paper's protocol: data, samples, extractor, iterations.
        rule: the verdict rule (:class:`Rule`).
        needs: what the claim's measurement needs beyond the library: "mnist" (always available:
            download or the offline fallback), "celeba", "utkface", "celeba-crops" (a 40x40 crop
            .npz), "inception" (the ImageNet InceptionV3 weights).
    """

    id: str
    paper: str
    source: str
    metric: str
    published: object
    unit: str
    statement: str
    protocol: str
    rule: Rule
    needs: tuple[str, ...] = ("mnist",)
    extra: dict = field(default_factory=dict)

    def published_text(self) -> str:
        """The published value as ``results.md`` shows it."""
        value = self.published
        if self.unit == "rho":
            return "the published ranking"
        if isinstance(value, bool):
            return "holds" if value else "does not hold"
        if isinstance(value, float):
            return f"{value:g}{'%' if self.unit == '%' else ' ' + self.unit if self.unit else ''}"
        return str(value)


PAPERS = {
    "thesis": "the thesis (seed 003): GAN, DCGAN, LSGAN, WGAN on MNIST and CelebA",
    "004": "seed 004: DCGAN and class-conditional GAN on MNIST",
    "002": "seed 002: CelebA attribute classifier overlaid on the GAN noise",
    "000": "seed 000: conditional adversarial autoencoder on UTKFace",
    "001": "seed 001: progressive growing GAN on CelebA-HQ",
}

# The thesis's Tables 4.6 and 4.7 (InceptionV3 FID, 5,000 vs 5,000) are in gans.experiments.EXPERIMENTS
# (published_fid); the claims below read them from there rather than keeping a second copy.
# A ranking claim's published value is the published ranking itself (rho 1 with itself); ours is reproduced
# when its Spearman rho with it is at least 0.65 (one-sided p < 0.05 for ten experiments).
_RANK_RULE = Rule("at_least", tolerance=0.35)

CLAIMS: dict[str, Claim] = {c.id: c for c in (
    Claim("thesis-fid-mnist", "thesis", "Table 4.6",
          "Spearman rank correlation of our InceptionV3 FIDs of experiments 1-10 with the published ones",
          1.0, "rho",
          "the ten MNIST experiments' FIDs as published (52.5 for experiment 3, the best, to 62.0 for experiment 2)",
          "InceptionV3 (ImageNet) pool features, 5,000 generated vs 5,000 real MNIST digits, each experiment at "
          "its own iterations (30,000 for the fully connected ones, 4,000-5,000 for the convolutional ones)",
          _RANK_RULE, needs=("mnist", "inception"), extra={"experiments": tuple(range(1, 11))}),
    Claim("thesis-fid-celeba", "thesis", "Table 4.7",
          "Spearman rank correlation of our InceptionV3 FIDs of experiments 11-20 with the published ones",
          1.0, "rho",
          "the ten CelebA experiments' FIDs as published (0.068 for experiment 18, the best, to 18.6 for 12)",
          "InceptionV3 (ImageNet) pool features, 5,000 vs 5,000 40x40 MTCNN crops of CelebA, each experiment "
          "at its own iterations",
          _RANK_RULE, needs=("celeba-crops", "inception"), extra={"experiments": tuple(range(11, 21))}),
    Claim("thesis-lenet-ranking", "thesis", "Table 4.6 (offline check)",
          "Spearman rank correlation of our LeNet FIDs of experiments 1-10 with the thesis's InceptionV3 FIDs",
          1.0, "rho",
          "the thesis's ranking of the ten MNIST experiments; offline the library can only rank them with its "
          "MNIST LeNet's features",
          "as Table 4.6, but the features are the library's MNIST LeNet-5's (the ImageNet weights cannot be "
          "downloaded offline)",
          _RANK_RULE, extra={"experiments": tuple(range(1, 11))}),
    Claim("thesis-mnist-winner", "thesis", "Table 4.6, section 4",
          "the MNIST experiment with the lowest mean LeNet FID", 3, "experiment",
          "experiment 3 (LSGAN, fully connected) has the best MNIST FID",
          "InceptionV3 FID, 5,000 vs 5,000; offline check with LeNet features", Rule("equals"),
          extra={"experiments": tuple(range(1, 11))}),
    Claim("ccgan-agreement", "004", "section 3 (Fig. 7, 8)",
          "conditional agreement: how often LeNet reads the class the CCGAN was asked for", 97.6, "%",
          "the best CCGAN (F=1, D=1, B=64, label smoothing) reaches an 'inception score' of 97.6%",
          "20 epochs of the 60,000 MNIST training digits (18,750 iterations at batch 64), Adam 1e-4, label "
          "smoothing; scored by a LeNet trained 5 epochs",
          Rule("at_least", tolerance=2.0)),
    Claim("ccgan-fdb-best", "004", "section 3 (Fig. 6, 17)",
          "the (F, D) of the F/D grid at B=64 with the highest conditional agreement", "F1-D1", "configuration",
          "simpler networks are marginally better: F=1, D=1 (B=64) is the best of the grid",
          "F and D from 1 to 3, B in 32, 64, 128, 20-25 epochs each, Adam 1e-4", Rule("equals")),
    Claim("lenet-test-accuracy", "004", "section 4",
          "held-out accuracy of LeNet-5 trained on real MNIST digits (5 epochs, Adam)", 98.8, "%",
          "LeNet reaches 99.4% on its training digits and 98.8% on the test set after 5 epochs of Adam",
          "the 60,000 training digits, 5 epochs, Adam, the 10,000 test digits", Rule("at_least", tolerance=1.0)),
    Claim("synthetic-10pct", "004", "section 4.1 (Fig. 11)",
          "held-out accuracy of LeNet trained on 10% real + 90% CCGAN digits, minus that on 100% real", 0.0,
          "points",
          "LeNet performs well even when only about 10% of its training digits are real",
          "the 60,000 training digits mixed with CCGAN digits, 5 epochs, batch 32, Adam 1e-3, tested on real "
          "digits", Rule("at_least", tolerance=1.0)),
    Claim("pca-saturation", "004", "section 5.2 (Fig. 12, 13)",
          "the component count after which the LeNet inception score of digits rebuilt from k components stops "
          "improving",
          64, "components", "after 64 principal components the improvement saturates",
          "per-class PCA of the MNIST digits, digits rebuilt from k components, scored by LeNet's inception score",
          Rule("between", low=32, high=128)),
    Claim("attribute-classifier-accuracy", "002", "section 6.1",
          "mean dev accuracy of the 40-attribute CelebA classifier", 89.4, "%",
          "the attribute classifier reaches 89.43% train and 89.40% dev accuracy",
          "CelebA (202,599 faces at 218x178), 40 sigmoid outputs, the paper's split", Rule("at_least", tolerance=2.0),
          needs=("celeba",)),
    Claim("caae-table1-eg", "000", "Table 1, result 10",
          "the E/G loss 'eg' after result 10's 10 epochs (Adam 1e-4, batch 64)", 0.1245, "",
          "result 10 ends at eg 0.1245 (di 0.0241, valid 0.1208)",
          "UTKFace (about 23,700 faces) at 128x128, 10 epochs, Adam 1e-4, batch 64", Rule("within", tolerance=0.05),
          needs=("utkface",), extra={"result_id": 10}),
    Claim("caae-linear-scaling", "000", "Table 1, results 10 and 11; section 4",
          "with the learning rate scaled with the batch size (2e-4 at 128 against 1e-4 at 64), eg ends closer to "
          "the base run's than without the scaling (1e-4 at 128)", True, "",
          "the learning rate should grow linearly with the batch size",
          "UTKFace at 128x128, 10 epochs per run, Adam", Rule("holds"), needs=("utkface",)),
    Claim("pggan-bce-collapse", "001", "section V",
          "the BCE + batch-norm recipe collapses at 32x32 while the MSE recipe without batch norm does not", True,
          "", "binary cross-entropy with batch norm collapsed at 32x32; MSE without batch norm trained stably",
          "CelebA-HQ, progressive growing to 256x256", Rule("holds"), needs=("celeba",)),
)}


def claim(name: str) -> Claim:
    """The claim called ``name``.

    Raises:
        ConfigError: an unknown claim (the message lists the claims and papers).
    """
    try:
        return CLAIMS[name]
    except KeyError:
        raise ConfigError(f"unknown claim or paper {name!r}; give 'all', a paper ({', '.join(PAPERS)}) or a claim "
                          f"({', '.join(CLAIMS)}).") from None


def select(target: str) -> list[Claim]:
    """The claims ``target`` names: "all", a paper's key (every claim of that paper), or one claim id.

    Raises:
        ConfigError: a name that is none of these.
    """
    if target == "all":
        return list(CLAIMS.values())
    if target in PAPERS:
        return [c for c in CLAIMS.values() if c.paper == target]
    return [claim(target)]


def verdict(c: Claim, ours, comparable: str | None = None) -> str:
    """The verdict of ``ours`` (a number, a winner or a truth value) against ``c``.

    Args:
        c: the claim.
        ours: our measurement; None when nothing was measured.
        comparable: a reason the measurement cannot be held to the claim (then "not comparable").
    """
    if comparable or ours is None:
        return "not comparable"
    return "reproduced" if c.rule.judge(c.published, ours) else "not reproduced"
