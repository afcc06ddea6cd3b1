"""`gans fid` reads every kind of source the same way: a folder of image files, a folder of MNIST IDX
files and a generator .h5 give exactly the statistics of the same images passed as an .npz.

The LeNet extractor is the untrained stand-in of conftest's ``tiny_lenet`` (nothing is trained or
downloaded); what is compared is how each source turns into images."""

import gzip

import keras
import numpy as np
import pytest

from gans.cli import main
from gans.errors import ConfigError

N = 40


def idx_bytes(array: np.ndarray) -> bytes:
    """LeCun's IDX format: zero, zero, 0x08 (unsigned bytes), the rank, big-endian sizes, the data."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def constant_generator(image: np.ndarray, latent_dim: int = 4) -> keras.Model:
    """A generator whose every output is ``image`` (float32 in [-1, 1]) exactly, whatever z is."""
    z = keras.Input((latent_dim,))
    flat = keras.layers.Dense(image.size, kernel_initializer="zeros",
                              bias_initializer=keras.initializers.Constant(image.ravel()))(z)
    return keras.Model(z, keras.layers.Reshape(image.shape)(flat), name="generator")


def fid(capsys, a, b, stats_dir) -> tuple[str, list[dict[str, np.ndarray]]]:
    """``gans fid A B`` with the LeNet stand-in: the printed result line, and the statistics of A and B."""
    assert main(["fid", str(a), str(b), "--extractor", "lenet", "--n", str(N), "--no-progress",
                 "--save-stats", str(stats_dir)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("FID ") and f"lenet5:tiny stand-in, n={N} vs {N}" in lines[-1], lines
    saved = [line.rsplit(" -> ", 1)[1] for line in lines if line.startswith("statistics of ")]
    assert len(saved) == 2, lines
    statistics = []
    for path in saved:
        with np.load(path, allow_pickle=False) as data:
            statistics.append({"mu": data["mu"], "sigma": data["sigma"]})
    return lines[-1], statistics


def assert_same_result(first, second):
    """Two ``fid`` results from the same images: the same FID and statistics, but for the round-off of
    multi-threaded kernels."""
    (line_a, stats_a), (line_b, stats_b) = first, second
    assert line_a.split()[2:] == line_b.split()[2:]  # the extractor and the sample counts
    assert float(line_a.split()[1]) == pytest.approx(float(line_b.split()[1]), rel=1e-6)
    assert len(stats_a) == len(stats_b) == 2
    for a, b in zip(stats_a, stats_b):
        np.testing.assert_allclose(a["mu"], b["mu"], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(a["sigma"], b["sigma"], rtol=1e-6, atol=1e-9)


@pytest.fixture
def two_sets(tmp_path):
    """Set A (dark) and set B (bright) of 28x28 digits-shaped images, each as an .npz."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 160, (N, 28, 28, 1), dtype=np.uint8)
    b = rng.integers(96, 256, (N, 28, 28, 1), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", images=a)
    np.savez(tmp_path / "b.npz", images=b)
    return a, b


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 40 samples of 84-d features: rank-deficient on purpose
def test_fid_reads_image_folders_and_idx_folders_as_the_same_images(tmp_path, two_sets, tiny_lenet, capsys):
    from PIL import Image

    a, b = two_sets
    folder, idx = tmp_path / "a_png", tmp_path / "b_idx"
    folder.mkdir()
    idx.mkdir()
    for i, image in enumerate(a):
        Image.fromarray(image[..., 0], mode="L").save(folder / f"{i:03d}.png")
    (idx / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(b[..., 0])))
    (idx / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.arange(N) % 10)))

    expected = fid(capsys, tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "npz_stats")
    assert float(expected[0].split()[1]) > 0
    assert_same_result(fid(capsys, folder, idx, tmp_path / "file_stats"), expected)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fid_of_a_generator_h5_is_the_fid_of_the_images_it_generates(tmp_path, two_sets, tiny_lenet, capsys):
    a, _ = two_sets
    image = a[0].astype(np.float32) / np.float32(127.5) - np.float32(1.0)  # exactly what scaling a[0] gives
    constant_generator(image).save(tmp_path / "generator.h5")
    np.savez(tmp_path / "same.npz", images=np.repeat(a[:1], N, axis=0))

    expected = fid(capsys, tmp_path / "same.npz", tmp_path / "b.npz", tmp_path / "npz_stats")
    assert float(expected[0].split()[1]) > 0
    assert_same_result(fid(capsys, tmp_path / "generator.h5", tmp_path / "b.npz", tmp_path / "h5_stats"), expected)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("label_input", ["onehot", "embedding"])
def test_a_conditional_generator_h5_draws_every_class_in_turn(tmp_path, two_sets, tiny_lenet, capsys, label_input):
    """`gans fid` on a CCGAN checkpoint: the label goes in as the network takes it (one-hot rows by
    default, integer ids with an embedding), classes 0, 1, ..., 9, 0, ... in turn."""
    from gans.evaluation.fid import generate_images
    from gans.models import cgan

    generator = cgan.build_generator(latent_dim=4, dense_units=8, base_filters=4, filters=(4,), label_input=label_input)
    generator.save(tmp_path / "cgan.h5")
    images = generate_images(tmp_path / "cgan.h5", 12, seed=3)
    z = np.random.default_rng(3).standard_normal((12, 4)).astype(np.float32)  # the documented draw
    expected = generator([z, cgan.label_inputs(generator, np.arange(12) % 10)], training=False)
    np.testing.assert_allclose(images, expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ConfigError, match="out of range 0-9"):
        generate_images(generator, 2, labels=np.array([3, 10]))
    with pytest.raises(ConfigError, match="not conditional"):
        z_only = keras.Input((4,))
        generate_images(keras.Model(z_only, keras.layers.Reshape((2, 2, 1))(z_only)), 2, labels=np.array([0, 1]))
    assert main(["fid", str(tmp_path / "cgan.h5"), str(tmp_path / "b.npz"), "--extractor", "lenet",
                 "--n", str(N), "--no-progress"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("FID ")
