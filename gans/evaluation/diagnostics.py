"""Find failed runs from what they record: non-convergence and mode collapse.

Both the thesis and its companion papers found failed trainings by eye. The thesis (section 2.6,
experiments 2 and 12) describes the signature in the loss curves: "while discriminator's loss
converges, the generator's is oscillating ... the discriminator is very good at the classification,
its loss value goes to zero". The CAAE paper (seed 000, result 14) shows a run whose generator stops
learning while one discriminator's loss sits near zero. This module turns those descriptions into
two checks with thresholds a reader can see, and a verdict with its evidence and the step it began:

* **Non-convergence** (:func:`check_losses`): over windows of steps, the discriminator loss stays near
  zero while the generator loss is high (climbing) or swings widely (oscillating), and this lasts to
  the end of the run. A spell that recovers is reported as transient, not as a failure.
* **Mode collapse** (:func:`check_diversity`): the mean pairwise distance between images generated
  from a fixed batch of latent vectors, divided by the same figure for real images, falls below a
  threshold and stays there. A generator that maps every z to nearly the same image has a ratio near
  zero; a healthy one stays near one.
* **Mode collapse by class coverage** (:func:`check_label_coverage`, when a classifier is at hand,
  e.g. the LeNet of a run that computes LeNet FID): the entropy of the classes the classifier reads in
  the fixed-z batch falls far below the highest value the run had reached, and stays there. Pixel
  distances miss a collapse onto one noisy pattern (speckle keeps them large); losing classes the
  generator had already covered does not (thesis experiment 2, measured: 0.92 -> 0.30).

A run that stopped because a loss became NaN or infinite is **diverged** (:func:`check_divergence`,
from the ``divergence.json`` training writes), whatever the other checks say.

The evidence comes from ``losses.csv`` and ``diversity.csv`` (written by
:class:`gans.evaluation.callbacks.DiagnosticsCallback`) in a run folder; :func:`diagnose_run` reads
them and :func:`write_diagnosis` writes ``diagnostics.json``, ``diagnostics.md`` and
``diagnostics.png``.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from gans.errors import DataError, DataNotFoundError

DIVERSITY_FILE = "diversity.csv"
DIVERGENCE_FILE = "divergence.json"  # written by gans.training.run when a loss stops being finite
COVERAGE_FILE = "coverage.csv"
LOSSES_FILE = "losses.csv"


@dataclass(frozen=True)
class LossThresholds:
    """What "near zero", "high" and "swinging" mean for one adversarial loss.

    Attributes:
        d_floor: a window's median discriminator loss below this counts as collapsed to zero.
        g_high: a window's median generator loss above this counts as high (the generator is rejected).
        g_swing: a window's generator-loss standard deviation above this counts as oscillating.
    """

    d_floor: float
    g_high: float
    g_swing: float


# Minimax (BCE): d_loss is the mean of the real and fake BCE; below 0.05 the discriminator assigns
# about 95% or more to the right side of both batches. g_loss = -log D(G(z)) above 3 means D(G(z)) is
# below 0.05 on average. Least squares: d_loss below 0.01 means outputs within 0.1 of their targets;
# g_loss = (D(G(z)) - 1)^2 above 0.6 means D(G(z)) below about 0.23.
THRESHOLDS = {
    "minimax": LossThresholds(d_floor=0.05, g_high=3.0, g_swing=1.5),
    "least_squares": LossThresholds(d_floor=0.01, g_high=0.6, g_swing=0.25),
}
DIVERSITY_THRESHOLD = 0.5  # generated diversity below half the real diversity counts as collapse
# A fall of the label entropy by more than this below its running peak counts as losing modes. Early
# samples also have a low entropy (blurry shapes land in few classes), so only a fall counts: healthy
# runs measured here rise (experiment 3: 0.13 -> 0.96), a collapsing one falls (experiment 2: 0.92 -> 0.30).
COVERAGE_DROP = 0.3


@dataclass
class Finding:
    """One check's result.

    Attributes:
        check: "divergence", "non_convergence" or "mode_collapse".
        flagged: whether the run fails this check (persistent to the end).
        began_at_step: the first step of the failure (or of a transient spell), else None.
        evidence: what was measured, in words and numbers.
        transient: a spell that matched the pattern but recovered before the end.
    """

    check: str
    flagged: bool
    began_at_step: int | None
    evidence: str
    transient: bool = False


@dataclass
class Diagnosis:
    """The verdict on one run and its findings.

    Attributes:
        verdict: "healthy", "diverged", "non-convergence", "mode collapse" or "mode collapse and
            non-convergence".
        findings: the checks behind it.
        steps: the last step recorded.
    """

    verdict: str
    findings: list[Finding] = field(default_factory=list)
    steps: int = 0

    @property
    def healthy(self) -> bool:
        return not any(f.flagged for f in self.findings)

    @property
    def began_at_step(self) -> int | None:
        """The step the failure began; for a diverged run, the step whose loss was not finite."""
        flagged = [f for f in self.findings if f.flagged and f.began_at_step is not None]
        diverged = [f.began_at_step for f in flagged if f.check == "divergence"]
        return diverged[0] if diverged else min((f.began_at_step for f in flagged), default=None)

    def summary(self) -> str:
        """One line: the verdict, and for a failure the step it began."""
        if self.healthy:
            return "healthy"
        return f"{self.verdict} (from step {self.began_at_step})"

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "healthy": self.healthy, "began_at_step": self.began_at_step,
                "steps": self.steps, "findings": [asdict(f) for f in self.findings]}

    def to_markdown(self, title: str = "Training diagnostics") -> str:
        lines = [f"# {title}", "", f"**Verdict: {self.verdict}**" + (
            f" (began at step {self.began_at_step} of {self.steps})" if not self.healthy else
            f" after {self.steps} steps"), ""]
        for f in self.findings:
            state = "FAILED" if f.flagged else ("transient" if f.transient else "passed")
            start = f", from step {f.began_at_step}" if f.began_at_step is not None else ""
            lines.append(f"- **{f.check.replace('_', ' ')}**: {state}{start}. {f.evidence}")
        return "\n".join(lines) + "\n"


def _windows(steps: np.ndarray, n_windows: int) -> list[np.ndarray]:
    n_windows = max(1, min(n_windows, len(steps) // 5 or 1))
    return [w for w in np.array_split(np.arange(len(steps)), n_windows) if len(w)]


def _persistent_onset(flags: list[bool], tolerance: float = 0.8) -> int | None:
    """The first flagged index k from which the flags hold at the end and in >= ``tolerance`` of flags[k:].

    Requiring the last window to be flagged separates a failure from a spell the run recovered from;
    the tolerance lets a failing run have the odd window that misses a threshold.
    """
    if not flags or not flags[-1]:
        return None
    for k, flag in enumerate(flags):
        if flag and np.mean(flags[k:]) >= tolerance:
            return k
    return None


def check_losses(steps: np.ndarray, d_loss: np.ndarray, g_loss: np.ndarray, loss: str = "minimax",
                 n_windows: int = 20) -> Finding:
    """Non-convergence from the loss curves: the discriminator wins while the generator loss climbs
    or oscillates.

    The run is cut into windows of consecutive steps. A window matches when either

    * the discriminator loss has collapsed toward zero (median below ``d_floor``) while the generator
      loss is high or swinging (thesis 2.6: "while discriminator's loss converges, the generator's is
      oscillating"), or
    * the generator loss is high (median above ``g_high``: the discriminator rejects the fakes) and
      either the discriminator loss touches zero on at least a quarter of the steps or the generator
      loss swings. This is the form a discriminator with a far too high learning rate takes: it wins,
      overshoots, and wins again, so its median is not zero but the generator never recovers.

    The run fails the check when the matching windows reach the end of the run (see
    :func:`_persistent_onset`); an early spell that recovers, as most GANs show in their first few
    hundred steps, is reported as transient.

    Args:
        steps: step numbers.
        d_loss: discriminator loss per step (mean of its real and fake losses).
        g_loss: generator loss per step.
        loss: "minimax", "least_squares" or "wasserstein" (whose critic values have no natural zero,
            so the check does not apply).
        n_windows: number of windows.

    Returns:
        A :class:`Finding` with check "non_convergence".
    """
    steps, d_loss, g_loss = (np.asarray(a, dtype=np.float64) for a in (steps, d_loss, g_loss))
    if loss not in THRESHOLDS:
        return Finding("non_convergence", False, None,
                       f"not applicable: {loss} losses have no level that means 'the discriminator wins'.")
    if len(steps) < 2:
        return Finding("non_convergence", False, None, "too few steps recorded to judge.")
    th = THRESHOLDS[loss]
    windows = _windows(steps, n_windows)
    # Medians, not means: one spike of a discriminator that is otherwise at zero must not hide a
    # window that is plainly collapsed, nor one huge generator loss make a healthy window look high.
    d_med = np.array([np.median(d_loss[w]) for w in windows])
    d_low = np.array([np.mean(d_loss[w] < th.d_floor) for w in windows])
    g_med = np.array([np.median(g_loss[w]) for w in windows])
    g_std = np.array([g_loss[w].std() for w in windows])
    high, swinging = g_med > th.g_high, g_std > th.g_swing
    flags = [bool((d < th.d_floor and (h or sw)) or (h and (low >= 0.25 or sw)))
             for d, low, h, sw in zip(d_med, d_low, high, swinging)]
    onset = _persistent_onset(flags)
    last = windows[-1]
    tail = (f"last window (steps {int(steps[last[0]])}-{int(steps[last[-1]])}): median D loss {d_med[-1]:.4g} "
            f"(below {th.d_floor} on {d_low[-1]:.0%} of steps), median G loss {g_med[-1]:.4g}, G loss std "
            f"{g_std[-1]:.4g}; thresholds: D < {th.d_floor}, G > {th.g_high}, G std > {th.g_swing} ({loss} loss)")
    if onset is not None:
        began = int(steps[windows[onset][0]])
        span = slice(onset, None)
        pattern = ("oscillating" if not high[-1] else "climbing" if g_med[-1] > g_med[onset] else
                   "high (the discriminator rejects the fakes)")
        return Finding("non_convergence", True, began,
                       f"from step {began} the discriminator wins (median D loss {np.median(d_med[span]):.3g}, "
                       f"below {th.d_floor} on {np.mean(d_low[span]):.0%} of steps) while "
                       f"the generator loss is {pattern} (median {np.median(g_med[span]):.3g}, std up to "
                       f"{g_std[span].max():.3g}); {sum(flags[onset:])} of {len(flags) - onset} windows from "
                       f"there match; {tail}.")
    if any(flags):
        first = flags.index(True)
        return Finding("non_convergence", False, int(steps[windows[first][0]]),
                       f"{sum(flags)} of {len(flags)} windows matched the pattern but the run recovered; {tail}.",
                       transient=True)
    return Finding("non_convergence", False, None, f"no window matched; {tail}.")


def check_diversity(steps: np.ndarray, diversity: np.ndarray, real_diversity: np.ndarray,
                    threshold: float = DIVERSITY_THRESHOLD, source: str = "fixed-z batch") -> Finding:
    """Mode collapse from the diversity of a fixed-z batch relative to real images.

    Args:
        steps: the steps at which diversity was measured.
        diversity: mean pairwise feature distance within the generated batch.
        real_diversity: the same for a batch of real images.
        threshold: a ratio below this counts as collapsed.
        source: what the generated batch was, for the message (the run's ``diagnostic_source``: the
            CAAE judges its reconstructions of fixed validation faces).

    Returns:
        A :class:`Finding` with check "mode_collapse".
    """
    steps = np.asarray(steps, dtype=np.int64)
    ratio = np.asarray(diversity, dtype=np.float64) / np.maximum(np.asarray(real_diversity, np.float64), 1e-12)
    if len(ratio) == 0:
        return Finding("mode_collapse", False, None, "no diversity measurements recorded.")
    history = ", ".join(f"{int(s)}: {r:.2f}" for s, r in zip(steps[-6:], ratio[-6:]))
    finite = np.isfinite(ratio)
    peak = (f"peak {np.max(ratio[finite]):.2f} at step {int(steps[finite][np.argmax(ratio[finite])])}"
            if finite.any() else "never finite")
    not_finite = "" if finite.all() else f", not finite at {np.sum(~finite)}"
    tail = (f"diversity ratio of the {source} to real images, {peak}, last {ratio[-1]:.2f} (threshold "
            f"{threshold}; a NaN or infinite ratio counts as collapsed){not_finite}; recent steps {history}")
    return _collapse_finding(
        steps, [bool(not np.isfinite(r) or r < threshold) for r in ratio], tail,
        failed=f"diversity of the {source} fell below {threshold} of the real images' at step {{onset}} "
               "and stayed there",
        recovered=f"the ratio dipped below {threshold} at {{count}} of {{total}} measurements but recovered")


def _collapse_finding(steps: np.ndarray, flags: list[bool], tail: str, failed: str, recovered: str,
                      passed: str = "") -> Finding:
    """A "mode_collapse" finding from per-measurement flags: failed when the flags hold from some
    measurement to the end, transient when they appeared and cleared, passed otherwise.

    ``failed`` may use {onset}; ``recovered`` {count} and {total}.
    """
    onset = _persistent_onset(flags, tolerance=1.0)
    if onset is not None:
        return Finding("mode_collapse", True, int(steps[onset]), f"{failed.format(onset=int(steps[onset]))}; {tail}.")
    if any(flags):
        return Finding("mode_collapse", False, int(steps[flags.index(True)]),
                       f"{recovered.format(count=sum(flags), total=len(flags))}; {tail}.", transient=True)
    return Finding("mode_collapse", False, None, f"{passed}{tail}.")


def label_entropy(probabilities: np.ndarray) -> float:
    """Normalised entropy (0 to 1) of the classes a classifier assigns to a batch.

    1 when every class is read equally often, 0 when every sample gets the same class.

    Args:
        probabilities: (N, K) class probabilities.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] < 2:
        raise DataError(f"expected (N, K>=2) class probabilities, got shape {probabilities.shape}.")
    shares = np.bincount(probabilities.argmax(axis=1), minlength=probabilities.shape[1]) / len(probabilities)
    shares = shares[shares > 0]
    return float(-(shares * np.log(shares)).sum() / np.log(probabilities.shape[1]))


def check_label_coverage(steps: np.ndarray, entropy: np.ndarray, drop: float = COVERAGE_DROP) -> Finding:
    """Mode collapse from class coverage: the label entropy of a fixed-z batch falls more than ``drop``
    below the highest value the run had reached, and stays there to the end.

    Counting the modes a generator covers with a classifier follows Metz et al. (2016), Unrolled GANs.

    Args:
        steps: the steps at which the entropy was measured.
        entropy: :func:`label_entropy` of the generated batch at those steps.
        drop: the fall below the running peak that counts as losing modes.

    Returns:
        A :class:`Finding` with check "mode_collapse".
    """
    steps = np.asarray(steps, dtype=np.int64)
    entropy = np.asarray(entropy, dtype=np.float64)
    if len(entropy) == 0:
        return Finding("mode_collapse", False, None, "class coverage not measured.")
    peak = np.maximum.accumulate(entropy)
    history = ", ".join(f"{int(s)}: {e:.2f}" for s, e in zip(steps[-6:], entropy[-6:]))
    tail = (f"label entropy of the fixed-z batch (1 = all classes equally often), peak {entropy.max():.2f} at "
            f"step {int(steps[entropy.argmax()])}, last {entropy[-1]:.2f} (a fall of more than {drop} counts); "
            f"recent steps {history}")
    return _collapse_finding(
        steps, [bool(e < p - drop) for e, p in zip(entropy, peak)], tail,
        failed="class coverage collapsed at step {onset}: the classifier reads far fewer classes than the run "
               "had reached, to the end",
        recovered="class coverage fell at {count} of {total} measurements but recovered",
        passed="class coverage held; ")


def real_at_size(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Real images (N, H, W, C) at the generated ``size`` (height, width): the central crop of the
    generated aspect ratio, resized (area averaging when shrinking), so diversity is compared at the
    resolution the generator makes (a growing generator's changes)."""
    from gans.datasets.npz import resize_images

    images = np.asarray(images)
    height, width = int(size[0]), int(size[1])
    if images.shape[1:3] == (height, width):
        return images
    h, w = images.shape[1:3]
    crop_h, crop_w = (h, max(1, round(h * width / height))) if h * width <= w * height else \
        (max(1, round(w * height / width)), w)
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    return resize_images(images[:, top:top + crop_h, left:left + crop_w], (height, width))


def mean_pairwise_distance(features: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs of rows: a batch's spread (0 when all rows are equal)."""
    from scipy.spatial.distance import pdist

    features = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    if len(features) < 2:
        raise DataError("need at least two samples to measure diversity.")
    return float(pdist(features).mean())


def verdict_of(findings: list[Finding]) -> str:
    """The one-phrase verdict from the findings ("diverged" above all: nothing else can be judged)."""
    failed = {f.check for f in findings if f.flagged}
    if "divergence" in failed:
        return "diverged"
    if failed == {"mode_collapse", "non_convergence"}:
        return "mode collapse and non-convergence"
    if "mode_collapse" in failed:
        return "mode collapse"
    if "non_convergence" in failed:
        return "non-convergence"
    return "healthy"


def read_table(path: Path) -> dict[str, np.ndarray]:
    """A numeric CSV with a header row, as columns (non-numeric columns are skipped)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    columns = {}
    for key in rows[0]:
        try:
            columns[key] = np.array([float(r[key]) for r in rows])
        except (TypeError, ValueError):
            continue
    return columns


def loss_family(config: dict) -> str:
    """The adversarial loss of a run ("minimax", "least_squares", "wasserstein") from its config.json."""
    from gans.losses import get_loss

    name = config.get("discriminator_loss") or config.get("loss")
    if name:
        try:
            return get_loss(name).name
        except ValueError:
            pass
    return "minimax"


def diagnose_run(run_dir: str | Path, n_windows: int = 20) -> Diagnosis:
    """The verdict on a run folder, from ``losses.csv``, ``diversity.csv``, ``coverage.csv`` (when the
    run had a classifier) and ``config.json``.

    Args:
        run_dir: the run folder.
        n_windows: loss windows (see :func:`check_losses`).

    Returns:
        :class:`Diagnosis`.

    Raises:
        DataNotFoundError: the folder has no ``losses.csv``.
    """
    from gans.io import read_json

    run_dir = Path(run_dir)
    losses_path = run_dir / LOSSES_FILE
    if not losses_path.is_file():
        raise DataNotFoundError(f"{run_dir} has no {LOSSES_FILE}; is it a run folder written by 'gans train'?")
    config_path = run_dir / "config.json"
    config = read_json(config_path, "a run's config.json") if config_path.is_file() else {}
    if not isinstance(config, dict):
        raise DataError(f"{config_path} is not a run's config.json (not a JSON object).")
    losses = read_table(losses_path)
    last = int(losses["step"][-1]) if len(losses.get("step", ())) else 0
    divergence = check_divergence(run_dir, last)
    no_pair = (config.get("run") or {}).get("adversarial_pair") == []  # a family without a D/G loss pair
    if not losses or (not no_pair and ("d_loss" not in losses or "g_loss" not in losses)):
        if divergence is not None:  # stopped at its first step: the divergence is the whole story
            return Diagnosis(verdict_of([divergence]), [divergence], steps=last)
        raise DataError(f"{losses_path} has no d_loss/g_loss columns or no rows.")
    findings = [Finding("non_convergence", False, None, "not checked: this family has no discriminator/generator "
                        "loss pair (adversarial_pair is empty).") if no_pair else
                check_losses(losses["step"], losses["d_loss"], losses["g_loss"], loss_family(config), n_windows)]
    if divergence is not None:
        findings.insert(0, divergence)
    diversity_path = run_dir / DIVERSITY_FILE
    if diversity_path.is_file():
        div = read_table(diversity_path)
        if div:
            source = (config.get("run") or {}).get("diagnostic_source") or "fixed-z batch"
            findings.append(check_diversity(div["step"], div["diversity"], div["real_diversity"], source=source))
    else:
        findings.append(Finding("mode_collapse", False, None,
                                f"not measured: no {DIVERSITY_FILE} (add DiagnosticsCallback to the run)."))
    coverage_path = run_dir / COVERAGE_FILE
    if coverage_path.is_file():
        coverage = read_table(coverage_path)
        if coverage:
            findings.append(check_label_coverage(coverage["step"], coverage["label_entropy"]))
    return Diagnosis(verdict_of(findings), findings, steps=last)


def check_divergence(run_dir: str | Path, last_step: int) -> Finding | None:
    """The run's divergence, from the ``divergence.json`` that training writes when it stops on a
    non-finite loss; None when there is none, or when a resumed run has since got past that step.
    """
    from gans.io import read_json

    path = Path(run_dir) / DIVERGENCE_FILE
    if not path.is_file():
        return None
    record = read_json(path, "a divergence record")
    try:
        step, message = int(record["step"]), str(record.get("message", ""))
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path} is not a divergence record (no step: {exc}).") from exc
    if last_step >= step:
        return None
    return Finding("divergence", True, step, message or f"training diverged at step {step}: a loss is not finite.")


def write_diagnosis(run_dir: str | Path, diagnosis: Diagnosis | None = None, title: str | None = None) -> Diagnosis:
    """Write ``diagnostics.json``, ``diagnostics.md`` and ``diagnostics.png`` into a run folder.

    Args:
        run_dir: the run folder.
        diagnosis: a diagnosis to write; None computes it with :func:`diagnose_run`.
        title: heading of the Markdown file and the figure.

    Returns:
        The diagnosis written.
    """
    from gans.io import write_json, write_text

    run_dir = Path(run_dir)
    diagnosis = diagnosis or diagnose_run(run_dir)
    title = title or f"Training diagnostics: {run_dir.name}"
    write_json(run_dir / "diagnostics.json", diagnosis.to_dict())
    write_text(run_dir / "diagnostics.md", diagnosis.to_markdown(title) + "\n![diagnostics](diagnostics.png)\n")
    plot_diagnosis(run_dir, diagnosis, run_dir / "diagnostics.png", title)
    return diagnosis


def loss_curves(losses: dict[str, np.ndarray]) -> list[tuple[str, str]]:
    """The columns of a ``losses.csv`` the diagnosis draws, with their labels: the thesis's
    discriminator and generator losses where the run has them, else every loss the run logged (the
    CAAE's eg, dz, di, ...), so no family's figure is left empty."""
    if "step" not in losses or not len(losses["step"]):
        return []
    if {"d_loss", "g_loss"} <= set(losses):
        return [("d_loss", "discriminator"), ("g_loss", "generator")]
    return [(name, name) for name in losses if name != "step" and np.isfinite(losses[name]).any()]


def plot_diagnosis(run_dir: Path, diagnosis: Diagnosis, out: Path, title: str) -> None:
    """Losses (top) and the diversity ratio (bottom), with the onset of each failure marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    losses = read_table(run_dir / LOSSES_FILE)
    diversity = read_table(run_dir / DIVERSITY_FILE) if (run_dir / DIVERSITY_FILE).is_file() else {}
    fig, axes = plt.subplots(2 if diversity else 1, 1, figsize=(9, 6 if diversity else 3.5), sharex=True,
                             squeeze=False)
    ax = axes[0, 0]
    drawn = loss_curves(losses)
    for name, label in drawn:
        ax.plot(losses["step"], losses[name], lw=0.7, label=label)
    if drawn and max(np.nanmax(np.abs(losses[name])) for name, _ in drawn) > 50:
        ax.set_yscale("symlog", linthresh=1.0)  # a diverging run's spikes would flatten everything else
    if not drawn:  # a run that diverged at its first step has no losses to draw
        ax.text(0.5, 0.5, "no losses recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylabel("loss")
    ax.set_title(f"{title}\nverdict: {diagnosis.summary()}", fontsize=10)
    if diversity:
        ratio = diversity["diversity"] / np.maximum(diversity["real_diversity"], 1e-12)
        axes[1, 0].plot(diversity["step"], ratio, marker="o", ms=3, color="tab:green")
        axes[1, 0].axhline(DIVERSITY_THRESHOLD, color="grey", ls=":", label="collapse threshold")
        axes[1, 0].set_ylabel("diversity / real")
        axes[1, 0].set_ylim(bottom=0)
    for f in diagnosis.findings:
        if f.flagged and f.began_at_step is not None:
            for row in axes[:, 0]:
                row.axvline(f.began_at_step, color="tab:red", ls="--", lw=1,
                            label=f"{f.check.replace('_', ' ')} from {f.began_at_step}")
    for row in axes[:, 0]:
        if row.get_legend_handles_labels()[0]:
            row.legend(fontsize=8, loc="upper left")
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    from gans.visualize import save_figure

    save_figure(fig, out, dpi=100)
