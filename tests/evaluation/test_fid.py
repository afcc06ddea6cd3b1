"""FID: the distance against the reference algorithm, statistics, extractors, caching, offline message."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
import scipy.linalg

from gans.errors import ConfigError, DataError, DataNotFoundError
from gans.evaluation import fid as fidmod
from gans.evaluation.fid import (ActivationStatistics, FeatureExtractor, MatchChannels, activation_statistics,
                                 fid_from_arrays, fid_from_generator, fid_from_statistics, frechet_distance,
                                 inception_extractor, reference_statistics, stats_cache_key)


def reference_fid(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """The TTUR / pytorch-fid algorithm, written out independently of the library."""
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        assert np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3)
        covmean = covmean.real
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


def random_stats(rng, d, n, scale=1.0):
    x = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * scale + rng.normal(size=d)
    return x.mean(0), np.cov(x, rowvar=False)


# Relative agreement with the reference algorithm. Full-rank statistics (more samples than
# dimensions, as the thesis's 5,000 InceptionV3 features of 2,048 dimensions): 1e-8, what docs/metrics.md
# states; measured 1e-15 to 3e-11. Rank-deficient ones (fewer samples than dimensions): the reference's
# general square root of a singular product carries its own error, measured 1.0e-8 to 1.5e-8 here.
FULL_RANK_RTOL, RANK_DEFICIENT_RTOL = 1e-8, 5e-8


def assert_agrees_with_reference(d, n, method, rtol):
    rng = np.random.default_rng(d + n)
    mu1, s1 = random_stats(rng, d, n)
    mu2, s2 = random_stats(rng, d, n, scale=0.7)
    expected = reference_fid(mu1, s1, mu2, s2)
    got = frechet_distance(mu1, s1, mu2, s2, method=method)
    assert abs(got - expected) / abs(expected) < rtol, (got, expected)


@pytest.mark.parametrize("d,n,rtol", [(64, 500, FULL_RANK_RTOL), (128, 1000, FULL_RANK_RTOL),
                                      (512, 2000, FULL_RANK_RTOL), (128, 60, RANK_DEFICIENT_RTOL),
                                      (200, 150, RANK_DEFICIENT_RTOL)],
                         ids=["full-64", "full-128", "full-512", "rank-59-of-128", "rank-149-of-200"])
@pytest.mark.parametrize("method", ["eigh", "sqrtm"])
def test_frechet_distance_agrees_with_reference(d, n, rtol, method):
    assert_agrees_with_reference(d, n, method, rtol)


@pytest.mark.slow
def test_frechet_distance_agrees_with_reference_at_the_thesis_size():
    """2,048-d InceptionV3 statistics of 5,000 images: the eigendecomposition route within 1e-8 of
    scipy's sqrtm, as docs/metrics.md states (about a minute: sqrtm at 2,048-d is slow)."""
    assert_agrees_with_reference(2048, 5000, "eigh", FULL_RANK_RTOL)


def test_frechet_distance_exact_cases():
    rng = np.random.default_rng(1)
    mu, sigma = random_stats(rng, 32, 300)
    assert frechet_distance(mu, sigma, mu, sigma) == 0.0
    assert frechet_distance(mu, sigma, mu.copy(), sigma.copy(), method="sqrtm") == 0.0
    mu2 = mu + rng.normal(size=mu.shape)
    assert frechet_distance(mu, sigma, mu2, sigma.copy()) == float((mu - mu2) @ (mu - mu2))
    # Diagonal covariances: the distance is sum((sqrt(a) - sqrt(b))^2) in closed form.
    a, b = rng.uniform(0.5, 2, 16), rng.uniform(0.5, 2, 16)
    closed = float(((np.sqrt(a) - np.sqrt(b)) ** 2).sum())
    for method in ("eigh", "sqrtm"):
        assert frechet_distance(np.zeros(16), np.diag(a), np.zeros(16), np.diag(b), method=method) == pytest.approx(closed, rel=1e-10)


def test_frechet_distance_is_symmetric_and_validates():
    rng = np.random.default_rng(2)
    mu1, s1 = random_stats(rng, 20, 100)
    mu2, s2 = random_stats(rng, 20, 100)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(frechet_distance(mu2, s2, mu1, s1), rel=1e-10)
    with pytest.raises(DataError, match="do not match"):
        frechet_distance(mu1, s1, mu2[:10], s2[:10, :10])
    bad = s2.copy()
    bad[0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        frechet_distance(mu1, s1, mu2, bad)
    with pytest.raises(ConfigError):
        frechet_distance(mu1, s1, mu2, s2, method="svd")


def test_reference_method_rejects_large_imaginary_part():
    # Not a covariance: a negative eigenvalue makes the square root of the product truly complex.
    s1 = np.diag([1.0, -4.0])
    s2 = np.eye(2)
    with pytest.raises(DataError, match="imaginary component"):
        frechet_distance(np.zeros(2), s1, np.zeros(2), s2, method="sqrtm")


def test_activation_statistics_float64_unbiased_and_rank_warning():
    rng = np.random.default_rng(3)
    features = rng.normal(size=(50, 8)).astype(np.float32)
    stats = activation_statistics(features, "test")
    assert stats.mu.dtype == np.float64 and stats.sigma.dtype == np.float64
    centred = features.astype(np.float64) - features.astype(np.float64).mean(0)
    np.testing.assert_allclose(stats.sigma, centred.T @ centred / (50 - 1), rtol=1e-12)
    assert stats.n == 50 and stats.extractor == "test"
    with pytest.warns(RuntimeWarning, match="rank at most 9"):
        activation_statistics(rng.normal(size=(10, 16)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        activation_statistics(rng.normal(size=(17, 16)))  # n > d: no warning


def test_statistics_roundtrip_and_extractor_guard(tmp_path):
    rng = np.random.default_rng(4)
    a = activation_statistics(rng.normal(size=(40, 5)), "ext-a")
    path = a.save(tmp_path / "a.npz")
    b = ActivationStatistics.load(path)
    np.testing.assert_array_equal(a.sigma, b.sigma)
    assert (b.n, b.extractor) == (40, "ext-a")
    result = fid_from_statistics(a, b)
    assert result.fid == 0.0 and result.extractor == "ext-a" and "ext-a" in str(result)
    other = activation_statistics(rng.normal(size=(40, 5)), "ext-b")
    with pytest.raises(ConfigError, match="different extractors"):
        fid_from_statistics(a, other)
    np.savez(tmp_path / "bad.npz", images=np.zeros((2, 2)))
    with pytest.raises(DataError, match="not a statistics file"):
        ActivationStatistics.load(tmp_path / "bad.npz")


def stats_of(rng, d, n, scale=1.0, extractor="ext"):
    mu, sigma = random_stats(rng, d, n, scale)
    return ActivationStatistics(mu, sigma, n, extractor)


@pytest.fixture
def count_roots(monkeypatch):
    """Counts the eigendecompositions that make a covariance's square root."""
    from gans.evaluation import frechet

    calls = []
    real = frechet.covariance_root
    monkeypatch.setattr(frechet, "covariance_root", lambda sigma: calls.append(1) or real(sigma))
    return calls


def test_cached_root_gives_the_reference_fid_and_is_computed_once(tmp_path, count_roots):
    """A reference compared with several sets (FID over training steps) pays its square root once;
    each distance agrees with scipy's sqrtm as the uncached route does, and equals that route exactly."""
    rng = np.random.default_rng(11)
    reference = stats_of(rng, 128, 1000)
    fakes = [stats_of(rng, 128, 1000, scale=s) for s in (0.6, 0.9, 1.3)]
    for fake in fakes:
        cached = fid_from_statistics(fake, reference).fid
        expected = reference_fid(fake.mu, fake.sigma, reference.mu, reference.sigma)
        assert abs(cached - expected) / expected < FULL_RANK_RTOL, (cached, expected)
        assert cached == frechet_distance(fake.mu, fake.sigma, reference.mu, reference.sigma)  # the uncached route
    assert len(count_roots) == 1 + 3  # the reference's once; three by the uncached route

    # Saved with the statistics, the root serves a fresh process: loading computes nothing.
    path = reference.save(tmp_path / "reference.npz")
    assert {"sigma_root", "sigma_root_key"} <= set(np.load(path).files)
    loaded = ActivationStatistics.load(path)
    count_roots.clear()
    # Either side may hold the root: a saved reference passed first is used as such.
    assert fid_from_statistics(loaded, fakes[0]).fid == pytest.approx(fid_from_statistics(fakes[0], reference).fid,
                                                                      rel=1e-12)
    assert count_roots == []
    with pytest.raises(DataError, match="square root"):
        frechet_distance(fakes[0].mu, fakes[0].sigma, reference.mu, reference.sigma, sigma2_root=np.eye(3))
    broken = ActivationStatistics(reference.mu, reference.sigma.copy(), 1000, "ext")
    broken.sigma[0, 1] = np.nan  # refused with the fix, before any eigendecomposition
    with pytest.raises(DataError, match="finite d x d covariance"):
        fid_from_statistics(fakes[0], broken)


def test_cached_root_follows_its_covariance(tmp_path):
    """The kept root is checked against sigma as it is when used: a sigma changed in place, replaced,
    or edited in a saved file gets a new root, never the stale one."""
    rng = np.random.default_rng(12)
    reference, fake = stats_of(rng, 64, 500), stats_of(rng, 64, 500, scale=0.8)

    def fresh():
        return reference_fid(fake.mu, fake.sigma, reference.mu, reference.sigma)

    before = fid_from_statistics(fake, reference).fid
    assert reference.holds_root
    reference.sigma *= 1.7  # in place
    changed = fid_from_statistics(fake, reference).fid
    assert changed != pytest.approx(before, rel=1e-3)
    assert changed == pytest.approx(fresh(), rel=FULL_RANK_RTOL)
    reference.sigma = stats_of(rng, 64, 500, scale=1.4).sigma  # replaced
    assert fid_from_statistics(fake, reference).fid == pytest.approx(fresh(), rel=FULL_RANK_RTOL)

    path = reference.save(tmp_path / "reference.npz")
    arrays = dict(np.load(path))
    arrays["sigma"] = arrays["sigma"] * 0.5  # edited after its root was saved
    np.savez(path, **arrays)
    edited = ActivationStatistics.load(path)
    assert edited.holds_root
    expected = reference_fid(fake.mu, fake.sigma, edited.mu, edited.sigma)
    assert fid_from_statistics(fake, edited).fid == pytest.approx(expected, rel=FULL_RANK_RTOL)
    arrays["sigma_root"] = np.full((3, 3), np.nan)  # damaged: ignored, computed again
    np.savez(path, **arrays)
    assert not ActivationStatistics.load(path).holds_root
    assert fid_from_statistics(fake, ActivationStatistics.load(path)).fid == pytest.approx(expected, rel=FULL_RANK_RTOL)


def test_stats_cache_key_distinguishes_every_field():
    base = dict(dataset="mnist", split="train", n=5000, image_size=(28, 28, 1), extractor="inception_v3:imagenet",
                resize_mode="bilinear")
    key = stats_cache_key(**base)
    assert key.endswith(".npz") and "/" not in key
    changes = dict(dataset="celeba", split="test", n=2048, image_size=(40, 40, 3), extractor="lenet5:x",
                   resize_mode="nearest")
    for field, value in changes.items():
        assert stats_cache_key(**{**base, field: value}) != key, field


class CountingExtractor(FeatureExtractor):
    """Counts how often features are computed, to see cache hits."""

    calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return super().__call__(*args, **kwargs)


def tiny_extractor(cacheable=True, resize_mode="bilinear"):
    """A 6-d feature extractor on 8x8 grayscale inputs: cheap stand-in for InceptionV3."""
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, keras.layers.Dense(6, kernel_initializer=keras.initializers.RandomNormal(seed=1))(x))
    return CountingExtractor(model, "tiny", (8, 8), 1, resize_mode=resize_mode, batch_size=7, cacheable=cacheable)


def test_feature_extractor_batches_resizes_and_names():
    ext = tiny_extractor()
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (20, 8, 8, 1), dtype=np.uint8)
    direct = ext.model.predict_on_batch(images.astype(np.float32) / 127.5 - 1)
    np.testing.assert_allclose(ext(images), direct, rtol=1e-5, atol=1e-6)  # 20 = 7+7+6: padded last batch
    big = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    assert ext(big).shape == (3, 6)
    assert tiny_extractor(resize_mode="nearest").name == "tiny+nearest"
    with pytest.raises(ConfigError):
        tiny_extractor(resize_mode="cubic-ish")


def test_feature_extractor_with_xla_gives_the_same_features():
    images = np.random.default_rng(9).integers(0, 256, (10, 12, 12, 1), dtype=np.uint8)
    plain = tiny_extractor()
    xla = CountingExtractor(plain.model, "tiny", (8, 8), 1, batch_size=7, jit=True)
    np.testing.assert_allclose(xla(images), plain(images), rtol=1e-5, atol=1e-6)
    assert xla._wrapper((12, 12, 1)).jit_compile is True and plain._wrapper((12, 12, 1)).jit_compile is not True


def test_reference_statistics_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANS_CACHE_DIR", str(tmp_path))
    ext = tiny_extractor()
    images = np.random.default_rng(6).integers(0, 256, (30, 8, 8, 1), dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        first = reference_statistics(images, "toy", n=20, extractor=ext, progress=False)
        second = reference_statistics(images, "toy", n=20, extractor=ext, progress=False)
        assert ext.calls == 1  # the second came from the cache
        np.testing.assert_array_equal(first.sigma, second.sigma)
        entries = list((tmp_path / "fid_stats").glob("*.npz"))
        assert len(entries) == 1
        assert second.holds_root  # the cache keeps the reference's square root
        np.testing.assert_allclose(second.sigma_root() @ second.sigma_root(), second.sigma, atol=1e-9)
        # An entry written before roots were kept gets its root on its next use.
        arrays = dict(np.load(entries[0]))
        np.savez(entries[0], **{k: v for k, v in arrays.items() if not k.startswith("sigma_root")})
        assert not ActivationStatistics.load(entries[0]).holds_root
        reference_statistics(images, "toy", n=20, extractor=ext, progress=False)
        assert ActivationStatistics.load(entries[0]).holds_root and ext.calls == 1
        other = reference_statistics(images[::-1].copy(), "toy", n=20, extractor=ext, progress=False)
        assert ext.calls == 2  # other images under the same name: another key, not a stale hit
        ext.cacheable = False
        reference_statistics(images, "toy", n=20, extractor=ext, progress=False)
        assert ext.calls == 3
    assert other.n == 20


def test_fid_from_arrays_and_generator(tmp_path):
    ext = tiny_extractor()
    rng = np.random.default_rng(7)
    real = rng.integers(0, 256, (64, 8, 8, 1), dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        same = fid_from_arrays(real, real.copy(), extractor=ext, progress=False)
        shifted = fid_from_arrays(real, np.clip(real.astype(int) + 60, 0, 255).astype(np.uint8), extractor=ext,
                                  progress=False)
    assert same.fid == 0.0 and shifted.fid > 0.1 and shifted.extractor == "tiny"

    z = keras.Input((4,))
    x = keras.layers.Dense(64, activation="tanh")(z)
    generator = keras.Model(z, keras.layers.Reshape((8, 8, 1))(x), name="tiny_generator")
    path = tmp_path / "generator.h5"
    generator.save(path)
    result = fid_from_generator(str(path), real, n=32, extractor=ext, batch_size=16, progress=False)
    assert result.n_a == 32 and result.n_b == 64 and result.fid > 0
    again = fid_from_generator(generator, real, n=32, extractor=ext, batch_size=16, progress=False)
    assert again.fid == pytest.approx(result.fid, rel=1e-5)  # same seed, same model: same figure
    with pytest.raises(DataNotFoundError):
        fid_from_generator(tmp_path / "missing.h5", real, n=8, extractor=ext)


def test_match_channels_layer_config():
    layer = MatchChannels(3, name="m")
    clone = MatchChannels.from_config(layer.get_config())
    assert clone.channels == 3
    gray = np.random.default_rng(8).uniform(-1, 1, (2, 4, 4, 1)).astype(np.float32)
    rgb = np.asarray(layer(gray))
    np.testing.assert_array_equal(rgb, np.repeat(gray, 3, -1))
    back = np.asarray(MatchChannels(1)(rgb))
    np.testing.assert_allclose(back, gray, atol=1e-6)  # luma weights sum to 1


@pytest.fixture(scope="module")
def random_inception():
    return inception_extractor(weights=None, batch_size=4)


def test_inception_extractor_contract(random_inception):
    ext = random_inception
    assert ext.dim == 2048 and ext.name == "inception_v3:random" and not ext.cacheable
    rng = np.random.default_rng(9)
    gray = rng.integers(0, 256, (5, 28, 28, 1), dtype=np.uint8)
    features = ext(gray)
    assert features.shape == (5, 2048) and np.isfinite(features).all()
    scaled = gray.astype(np.float32) / 127.5 - 1.0
    np.testing.assert_allclose(ext(scaled), features, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ext(np.repeat(gray, 3, axis=-1)), features, rtol=1e-5, atol=1e-7)
    assert not np.allclose(features[0], features[1])  # different images, different features


def test_inception_local_weights_file(random_inception, tmp_path):
    path = tmp_path / "notop.weights.h5"
    random_inception.model.save_weights(path)
    ext = inception_extractor(weights=str(path), batch_size=4)
    assert ext.name.startswith("inception_v3:file-") and ext.cacheable
    images = np.random.default_rng(10).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(ext(images), random_inception(images), rtol=1e-5, atol=1e-7)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        inception_extractor(weights=str(tmp_path / "nope.h5"))


def test_offline_message_when_download_fails(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv(fidmod.WEIGHTS_ENV_VAR, raising=False)

    def no_network(*args, **kwargs):  # what keras.utils.get_file raises without network
        raise Exception(f"URL fetch failure on {fidmod.INCEPTION_NOTOP_URL}: None -- [Errno -3] "
                        "Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    with pytest.raises(DataNotFoundError) as info:
        inception_extractor()
    message = str(info.value)
    assert "could not be downloaded" in message and "URL fetch failure" in message
    assert fidmod.INCEPTION_NOTOP_FILE in message and "--inception-weights" in message
    assert info.value.__suppress_context__  # no chained traceback from inside Keras

    from gans.cli import main

    source = tmp_path / "images.npz"
    np.savez(source, images=np.zeros((4, 8, 8, 1), np.uint8))
    capsys.readouterr()
    assert main(["fid", str(source), str(source), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "could not be downloaded" in err[0] and "Traceback" not in err[0]
