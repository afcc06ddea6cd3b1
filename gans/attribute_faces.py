"""A new face from the features of given faces (seed 002): the attribute classifier reads the faces,
their averaged attributes are overlaid on the GAN's noise (equation 1), the generator draws the face;
``gans generate-from-faces``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gans.sampling import check_output


def face_from_faces(classifier, generator, faces: np.ndarray, alpha: float = 0.6, beta: float = 0.8,
                    seed: int = 0) -> dict:
    """A new face with the attributes of ``faces`` (the CelebA attributes paper, seed 002).

    The classifier reads each face; its 40 outputs are averaged, overlaid on 160 standard normal
    draws by equation 1 (:func:`gans.models.attribute.attribute_noise`) and rendered by the generator.

    Args:
        classifier: the attribute classifier (40 sigmoid outputs).
        generator: a generator of the attribute GAN (160-d input).
        faces: uint8 (n, H, W, 3) faces (resized to the classifier's input as needed).
        alpha, beta: equation 1's noise weights, in [0, 1].
        seed: seed of the normal draws.

    Returns:
        ``image`` (H, W, C) float32 in [-1, 1], ``used`` (40,) the averaged attributes put into the
        noise, ``inputs`` (n, 40) the classifier's outputs per given face, ``read`` (40,) its outputs
        on the new face, ``noise`` (160,).
    """
    from gans.evaluation.attributes import predict_attributes
    from gans.models.attribute import LATENT_DIM, attribute_noise, check_attribute_generator, check_classifier

    check_classifier(classifier)
    check_attribute_generator(generator)
    inputs = predict_attributes(classifier, faces)
    used = inputs.mean(axis=0)
    noise = attribute_noise(used, np.random.default_rng(seed).standard_normal(LATENT_DIM), alpha, beta)
    image = np.asarray(generator.predict(noise[None], verbose=0))[0]
    read = predict_attributes(classifier, image[None])[0]
    return {"image": image, "used": used, "inputs": inputs, "read": read, "noise": noise}


def cmd_generate_from_faces(args) -> int:
    from gans.datasets.celeba import ATTRIBUTE_NAMES
    from gans.datasets.npz import resize_images
    from gans.datasets.scaling import unscale_images
    from gans.errors import DataNotFoundError
    from gans.evaluation.attributes import load_attribute_classifier
    from gans.io import write_rows
    from gans.models import load_generator
    from gans.models.attribute import check_attribute_generator, check_classifier
    from gans.training.steps import run_generator
    from gans.visualize import save_image_grid

    out = check_output(args.out, ".png", "--out", args.overwrite)
    beside = check_output(str(out.with_name(f"{out.stem}_with_inputs.png")), ".png", "--out", args.overwrite)
    table = check_output(str(out.with_name(f"{out.stem}_attributes.csv")), ".csv", "--out", args.overwrite)
    paths = [Path(p).expanduser() for p in args.faces]
    for path in paths:
        if not path.is_file():
            raise DataNotFoundError(f"face image {path} does not exist; pass image files of faces.")
    classifier = load_attribute_classifier(args.classifier)
    generator = load_generator(run_generator(args.generator))  # a run folder: its latest generator
    height, width, _ = check_attribute_generator(generator, source=f"generator {args.generator}")
    size = check_classifier(classifier)[:2]
    if args.crop:
        from gans.datasets.faces import crop_face_photos

        faces = crop_face_photos(paths, size, margin=args.margin)
    else:
        from gans.datasets.image_files import read_images

        faces = read_images(paths, size=size)
    made = face_from_faces(classifier, generator, faces, args.alpha, args.beta, args.seed)
    save_image_grid(made["image"][None], out, scale=1, pad=0)
    shown = np.concatenate([resize_images(faces, (height, width)), unscale_images(made["image"][None])])
    save_image_grid(shown, beside, rows=1, cols=len(shown), scale=2)
    rows = [{"attribute": name, "used": f"{u:.4f}", "new_face": f"{r:.4f}",
             **{f"face_{i + 1}": f"{v:.4f}" for i, v in enumerate(made["inputs"][:, k])}}
            for k, (name, u, r) in enumerate(zip(ATTRIBUTE_NAMES, made["used"], made["read"]))]
    write_rows(table, ("attribute", "used", "new_face", *[f"face_{i + 1}" for i in range(len(paths))]), rows)
    print(f"attribute vector used (mean of the classifier's outputs on {len(paths)} faces; alpha {args.alpha:g}, "
          f"beta {args.beta:g}):")
    for row in rows:
        print(f"  {row['attribute']:<20} {row['used']}   (read on the new face: {row['new_face']})")
    agree = float(np.mean((made["used"] >= 0.5) == (made["read"] >= 0.5)))
    print(f"the classifier reads {agree:.0%} of the attributes on the new face as in the vector used")
    print(f"new face: {out}\nbeside its inputs: {beside}\nattributes: {table}")
    return 0
