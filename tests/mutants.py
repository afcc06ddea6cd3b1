"""Planted bugs the default test suite must catch, as data.

Each mutant breaks one thing the library promises (``claim``) by exact text replacements in library
files (``edits``: file, the original text, which must occur exactly once, and its replacement), and
names the test files that must then fail (``tests``). ``tools/run_mutants.py`` plants each mutant in a
copy of the repository and runs those files there; a mutant whose tests still pass shows a test
that cannot fail when its feature breaks.

Not collected by pytest (the name does not start with ``test_``). When a replaced text changes in
the library, the runner reports the mutant as stale instead of silently testing nothing.
"""

from __future__ import annotations

from typing import NamedTuple


class Edit(NamedTuple):
    file: str
    original: str
    replacement: str


class Mutant(NamedTuple):
    name: str
    claim: str
    edits: tuple[Edit, ...]
    tests: tuple[str, ...]


ADVERSARIAL = "gans/training/steps/adversarial.py"
STATE = "gans/training/state.py"
TRAINING_CALLBACKS = "gans/training/callbacks.py"

MUTANTS: tuple[Mutant, ...] = (
    # ------------------------------------------------------------------ the freezing rule
    Mutant(
        "keras2-freeze-recipe",
        "D learns in its own steps: the Keras 2 recipe (freeze D once before compiling the combined model, "
        "and a set_trainable that only ever freezes) leaves D's train_on_batch updating nothing",
        (Edit(ADVERSARIAL, "        self.combined, combined_loss, loss_weights = self.build_combined_model()\n",
              "        discriminator.trainable = False  # Keras 2: freeze once, then compile the combined model\n"
              "        self.combined, combined_loss, loss_weights = self.build_combined_model()\n"),
         Edit("gans/training/freeze.py", "    if model.trainable != trainable:\n        model.trainable = trainable\n",
              "    model.trainable = False\n")),
        ("tests/training/test_training.py",),
    ),
    Mutant(
        "d-step-not-unfrozen",
        "D learns in its own steps even when something froze it before its first update (the run's model "
        "summaries do)",
        (Edit(ADVERSARIAL, "            set_trainable(self.discriminator, True)\n            reals.append(",
              "            reals.append("),),
        ("tests/training/test_training.py",),
    ),
    Mutant(
        "no-freeze-in-g-step",
        "D does not move in G steps",
        (Edit(ADVERSARIAL, "        set_trainable(self.discriminator, False)\n        generator = self.generator_update(",
              "        generator = self.generator_update("),),
        ("tests/training/test_training.py",),
    ),
    Mutant(
        "frozen-batchnorm-updates-moving-statistics",
        "a frozen discriminator's batch norm in 'batch' mode normalizes with the batch but leaves its moving "
        "statistics as they were",
        (Edit("gans/layers.py", "        mean, variance = self._moments(inputs, mask)\n        outputs = ops.batch_normalization(",
              "        mean, variance = self._moments(inputs, mask)\n"
              "        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))\n"
              "        outputs = ops.batch_normalization("),),
        ("tests/training/test_training.py", "tests/training/test_frozen_batchnorm.py"),
    ),
    Mutant(
        "frozen-batchnorm-batch-ignored",
        "--frozen-batchnorm batch makes the frozen discriminator normalize with the batch's statistics",
        (Edit("gans/layers.py", '        if not (training and not self.trainable and self.frozen_statistics == "batch"):',
              '        if True:'),),
        ("tests/training/test_frozen_batchnorm.py",),
    ),
    Mutant(
        "frozen-batchnorm-not-set-by-make-step",
        "the run's --frozen-batchnorm reaches the networks' layers",
        (Edit("gans/training/steps/__init__.py", "    step.use_frozen_batchnorm(config.frozen_batchnorm)\n", ""),),
        ("tests/training/test_frozen_batchnorm.py",),
    ),
    # ------------------------------------------------------------------ resume
    Mutant(
        "resume-zeroes-optimizer-slots",
        "a resumed run restores every optimizer variable (here only the iteration count and learning rate "
        "come back; Adam's and RMSprop's slots restart at zero)",
        (Edit(STATE, "            _assign(optimizer.variables,\n", "            _assign(optimizer.variables[:2],\n"),),
        ("tests/training/test_resume.py",),
    ),
    Mutant(
        "resume-skips-discriminator",
        "a resumed run restores the discriminator",
        (Edit(STATE, '''        for name, model in step_obj.restored_models.items():
            if meta.get("format", 1) < 2:''', '''        for name, model in step_obj.restored_models.items():
            if name == "discriminator":
                continue
            if meta.get("format", 1) < 2:'''),),
        ("tests/training/test_resume.py",),
    ),
    Mutant(
        "resume-loses-dropout-seeds",
        "a resumed run draws the dropout masks the uninterrupted run draws (the seed-generator states are "
        "part of the state)",
        (Edit(STATE, "    for variable, value in zip(variables, values):\n        variable.assign(value)\n",
              "    for variable, value in zip(variables, values):\n"
              "        if \"seed_generator\" not in variable.path:\n            variable.assign(value)\n"),),
        ("tests/training/test_resume.py",),
    ),
    Mutant(
        "resume-fresh-rng",
        "a resumed run continues the saved random generator (batches, latents, labels)",
        (Edit("gans/training/trainer.py", "            self.rng = restore_rng(meta)\n",
              "            self.rng = np.random.default_rng(self.seed)\n"),),
        ("tests/training/test_resume.py",),
    ),
    Mutant(
        "losses-not-cut-back",
        "on resume, losses.csv is cut back to the restored step: no duplicate and no gap",
        (Edit(TRAINING_CALLBACKS, "        kept = read_rows_until(path, trainer.step)\n",
              "        kept = read_rows_until(path, 10**9)\n"),),
        ("tests/training/test_resume.py",),
    ),
    Mutant(
        "epoch-order-from-run-rng",
        'in "epoch" batch mode the permutation of epoch e comes from (seed, e), so a run resumed in the '
        "middle of an epoch draws the batches an uninterrupted one draws",
        (Edit("gans/training/data.py", "np.random.default_rng([self.seed, epoch]).permutation(", "rng.permutation("),),
        ("tests/training/test_resume.py",),
    ),
    # ------------------------------------------------------------------ families
    Mutant(
        "wgan-clip-removed",
        "every WGAN critic weight stays within the clip value",
        (Edit("gans/layers.py", "        return ops.clip(w, -self.clip_value, self.clip_value)\n",
              "        return w\n"),),
        ("tests/training/test_training.py", "tests/models/test_builders.py"),
    ),
    Mutant(
        "wgan-one-critic-step",
        "WGAN does n_critic (5) critic updates per generator update",
        (Edit(ADVERSARIAL, "        for k in range(self.n_critic):\n", "        for k in range(1):\n"),),
        ("tests/training/test_training.py",),
    ),
    Mutant(
        "cgan-discriminator-ignores-labels",
        "the conditional discriminator sees each image with its own class",
        (Edit("gans/training/steps/conditional.py",
              "        return None if labels is None else label_inputs(model, labels)\n",
              "        return None if labels is None else label_inputs(model, np.zeros_like(labels) if model is "
              "self.discriminator else labels)\n"),),
        ("tests/training/test_steps.py",),
    ),
    Mutant(
        "fakes-generated-in-training-mode",
        "the discriminator's fakes come from the generator in inference mode (as the thesis's predict)",
        (Edit("gans/models/__init__.py", "        fn = tf.function(lambda x: model(x, training=False), "
              "reduce_retracing=True)", "        fn = tf.function(lambda x: model(x, training=True), reduce_retracing=True)"),),
        ("tests/training/test_steps.py",),
    ),
    Mutant(
        "label-smoothing-ignored",
        "one-sided label smoothing softens the real labels",
        (Edit("gans/losses.py", "    if smoothing:\n        labels -= rng.uniform(",
              "    if False:\n        labels -= rng.uniform("),),
        ("tests/training/test_steps.py",),
    ),
    # ------------------------------------------------------------------ artefacts
    Mutant(
        "sample-grid-z-redrawn",
        "sample grids come from one fixed z at every interval",
        (Edit(TRAINING_CALLBACKS, "np.random.default_rng(self.seed), labels)",
              "np.random.default_rng(self.seed + step), labels)"),),
        ("tests/training/test_training.py",),
    ),
    Mutant(
        "no-registration-when-keras-loads-later",
        "a generator .h5 with custom layers loads in a fresh process after `import gans; import keras` "
        "(here gans registers its objects only when Keras is already loaded)",
        (Edit("gans/__init__.py", "        sys.meta_path.insert(0, _AfterKeras())\n", "        pass\n"),),
        ("tests/training/test_training.py",),
    ),
    Mutant(
        "virtual-batchnorm-not-registered",
        "every custom layer is registered, so a checkpoint using it loads by name",
        (Edit("gans/layers.py",
              "@keras.saving.register_keras_serializable(package=PACKAGE)\nclass VirtualBatchNormalization",
              "class VirtualBatchNormalization"),),
        ("tests/training/test_training.py",),
    ),
    Mutant(
        "scaling-not-idempotent",
        "scale_images leaves images already in [-1, 1] unchanged",
        (Edit("gans/datasets/scaling.py", "        return images.astype(np.float32, copy=False)\n",
              "        return images.astype(np.float32) * np.float32(0.999)\n"),),
        ("tests/datasets/test_mnist.py",),
    ),
    # ------------------------------------------------------------------ mixed precision
    Mutant(
        "precision-float16-without-loss-scale",
        "under mixed_float16 every optimizer trains through a dynamic loss scale",
        (Edit("gans/precision.py", "    if not needs_loss_scaling(precision):\n        return optimizer\n",
              "    return optimizer\n"),),
        ("tests/training/test_precision.py::test_every_family_trains_under_each_policy[wgan-mixed_float16-recipe]",),
    ),
    Mutant(
        "precision-policy-leaks",
        "the dtype policy is set only while a run's networks are built: a float32 run built after a mixed one "
        "computes in float32",
        (Edit("gans/precision.py", "        keras.config.set_dtype_policy(before)\n", "        pass\n"),),
        ("tests/training/test_precision.py::test_a_process_holds_runs_of_two_policies",),
    ),
    Mutant(
        "precision-half-outputs",
        "under a mixed policy every network's outputs are float32",
        (Edit("gans/training/steps/base.py", '        if self.precision != "float32":\n', "        if False:\n"),),
        ("tests/training/test_precision.py::test_a_process_holds_runs_of_two_policies",
         "tests/training/test_precision.py::test_every_family_trains_under_each_policy[pggan-mixed_float16-fused]"),
    ),
    # ------------------------------------------------------------------ evaluation and the command line
    Mutant(
        "fid-trace-in-float32",
        "the eigendecomposition FID agrees with the reference algorithm to 1e-8 (here its inner product "
        "is computed in float32: about 3e-7 off)",
        (Edit("gans/evaluation/frechet.py", "    inner = root1 @ sigma2 @ root1\n",
              "    f32 = np.float32\n"
              "    inner = (root1.astype(f32) @ sigma2.astype(f32) @ root1.astype(f32)).astype(float)\n"),),
        ("tests/evaluation/test_fid.py",),
    ),
    Mutant(
        "fid-root-cache-ignores-invalidation",
        "the square root kept with reference statistics is the root of their covariance as it is now: a sigma "
        "changed in place, replaced, or edited in a saved file gets a new root (here the kept one is reused)",
        (Edit("gans/evaluation/statistics.py", "        if self._root is None or self._root_key != key:\n",
              "        if self._root is None:\n"),),
        ("tests/evaluation/test_fid.py",),
    ),
    Mutant(
        "fid-root-not-kept",
        "FID against one reference computes the reference's square root once (here at every distance)",
        (Edit("gans/evaluation/fid.py", "    value = frechet_distance(other.mu, other.sigma, rooted.mu, rooted.sigma, "
              "sigma2_root=rooted.sigma_root())\n",
              "    value = frechet_distance(other.mu, other.sigma, rooted.mu, rooted.sigma)\n"),),
        ("tests/evaluation/test_fid.py",),
    ),
    Mutant(
        "fid-idx-folder-read-as-images",
        "gans fid reads a folder of MNIST IDX files as MNIST",
        (Edit("gans/evaluation/sources.py", 'return "mnist" if any(path.glob("*-idx3-ubyte*")) else "folder"',
              'return "folder"'),),
        ("tests/evaluation/test_commands.py",),
    ),
    Mutant(
        "fid-conditional-labels-ignored",
        "gans fid on a CCGAN checkpoint draws every class in turn, fed as its label input takes them",
        (Edit("gans/evaluation/fid.py", "        inputs.append(label_inputs(model, labels))",
              "        inputs.append(label_inputs(model, np.zeros_like(labels)))"),),
        ("tests/evaluation/test_commands.py",),
    ),
    Mutant(
        "diagnose-always-exits-0",
        "gans diagnose exits 1 on a failed run",
        (Edit("gans/evaluation/commands.py", "    return 0 if diagnosis.healthy else 1\n", "    return 0\n"),),
        ("tests/cli/test_cli_process.py",),
    ),
    Mutant(
        "crop-faces-limit-dropped",
        "gans crop-faces --limit N reads only the first N files",
        (Edit("gans/datasets/commands.py", "        limit=args.limit,\n", "        limit=None,\n"),),
        ("tests/datasets/test_faces.py",),
    ),
    Mutant(
        "crop-faces-select-dropped",
        "gans crop-faces --select largest keeps the largest face",
        (Edit("gans/datasets/commands.py", "        select=args.select,\n", '        select="confidence",\n'),),
        ("tests/datasets/test_faces.py",),
    ),
    # ------------------------------------------------------------------ the fused execution
    Mutant(
        "fused-skips-metric-reset",
        "the fused execution logs each update's own batch loss, as train_on_batch does",
        (Edit("gans/training/execution.py", "                for metric in model.metrics:  # as train_on_batch does",
              "                for metric in []:  # as train_on_batch does"),),
        ("tests/training/test_execution.py",),
    ),
    Mutant(
        "fused-trains-generated-batch-in-training-mode",
        "the fused execution generates the discriminator's fakes in inference mode, as the recipe does",
        (Edit("gans/training/execution.py", "    def generate(self, model, inputs):\n        return model(inputs, training=False)",
              "    def generate(self, model, inputs):\n        return model(inputs, training=True)"),),
        ("tests/training/test_execution.py",),
    ),
    Mutant(
        "trace-dependent-rewrites-left-off",
        "the equality runs turn grappler's trace-dependent rewrites back on for the tests after them",
        (Edit("gans/training/execution.py", "        tf.config.optimizer.set_experimental_options(restore)",
              "        pass"),),
        ("tests/training/test_execution.py",),
    ),
    Mutant(
        "caae-eg-reports-the-objective",
        "the CAAE's eg is the batch's reconstruction error (the seed's Figure 3), not the whole E/G objective",
        (Edit("gans/training/steps/caae.py", 'return {"eg": eg, "dz"', 'return {"eg": eg_total, "dz"'),),
        ("tests/training/test_caae.py",),
    ),
    Mutant(
        "resume-drops-rows-without-a-new-loss",
        "a resume by a version that logs another loss keeps the earlier rows of losses.csv",
        (Edit("gans/training/callbacks.py", '            kept = [{**row, **{k: "nan" for k in missing}} for row in kept]',
              "            kept = []"),),
        ("tests/training/test_resume.py",),
    ),
    Mutant(
        "distributed-batch-not-split",
        "each replica trains on its own share of the global batch",
        (Edit("gans/training/execution.py", "                return a[i * share:(i + 1) * share]",
              "                return a[:share]"),),
        ("tests/training/test_distribute.py",),
    ),
    Mutant(
        "tensorboard-drops-last-losses",
        "every step's losses reach TensorBoard, the last ones too",
        (Edit(TRAINING_CALLBACKS, "        if self._writer is not None:\n            self._write_losses()\n            self._writer.flush()",
              "        if self._writer is not None:\n            self._writer.flush()"),),
        ("tests/training/test_execution.py",),
    ),
    # ------------------------------------------------------------------ sweeps
    Mutant(
        "sweep-axis-any-name",
        "a sweep refuses an axis its family does not read (issue 24: result_id=3,10 trained one run twice); "
        "planted as an axis check that lets any name through",
        (Edit("gans/studies/grid.py", "        _check_read(config, axis, listed)\n", ""),),
        ("tests/studies/test_sweep.py",),
    ),
    Mutant(
        "sweep-restarts-runs",
        "a sweep resumes a run folder that holds a saved state instead of refusing or restarting it",
        (Edit("gans/studies/sweep.py", "          resume=run_dir.exists())", "          resume=False)"),),
        ("tests/studies/test_sweep.py",),
    ),
    Mutant(
        "sweep-requeues-finished-points",
        "a restarted sweep skips the points that finished (planted in both guards: the queue, and the rule "
        "that a point's lowest-numbered live trial owns it)",
        (Edit("gans/studies/sweep.py", "    live = (TrialState.COMPLETE, TrialState.WAITING, TrialState.RUNNING)\n    states",
              "    live = (TrialState.WAITING, TrialState.RUNNING)\n    states"),
         Edit("gans/studies/sweep.py", "                 if t.number < trial.number and t.state in live]",
              "                 if t.number < trial.number and t.state in live and False]"),),
        ("tests/studies/test_sweep.py",),
    ),
    Mutant(
        "sweep-axis-misses-a-network",
        "a builder option axis (F = capacity) changes every network that takes it",
        (Edit("gans/studies/grid.py", "        return \"network:\" + \"+\".join(f\"{r}.{name}\" for r in roles)",
              "        return f\"network:{roles[0]}.{name}\""),),
        ("tests/studies/test_sweep.py",),
    ),
    Mutant(
        "sweep-scaling-rule-inverted",
        "--scale-lr-with-batch multiplies the learning rate by batch / base batch",
        (Edit("gans/config.py", "    return float(base_lr) * batch_size / base_batch",
              "    return float(base_lr) * base_batch / batch_size"),),
        ("tests/studies/test_sweep.py",),
    ),
    Mutant(
        "caae-collapse-check-reads-prior-samples",
        "the CAAE's mode-collapse check judges its reconstructions of validation faces, not prior samples",
        (Edit("gans/training/steps/caae.py",
              "        return render(self.encoder, self._generator, scale_images(images[chosen]), age, gender)\n",
              "        return self.sample(n, rng)\n"),),
        ("tests/training/test_caae.py",),
    ),
    Mutant(
        "tensorboard-keeps-the-killed-steps",
        "a resumed run's TensorBoard log holds each step once: the stopped run's events after its saved state are cut",
        (Edit(TRAINING_CALLBACKS, "        if trainer.step:  # a resume: the killed run's steps after the saved state are redone\n",
              "        if False:\n"),),
        ("tests/training/test_resume.py",),
    ),
    Mutant(
        "family-options-let-through",
        "gans train refuses another family's own option instead of ignoring it",
        (Edit("gans/cli/train.py", "    for other in families.FAMILIES.values():\n        if other.name == family.name:",
              "    for other in ():\n        if other.name == family.name:"),),
        ("tests/test_families.py",),
    ),
    Mutant(
        "family-configure-skipped",
        "a family's own options reach its configuration through its registry entry's configure",
        (Edit("gans/cli/train.py", "    if configure is not None:\n        config = configure(args, config)",
              "    if False:\n        config = configure(args, config)"),),
        ("tests/test_families.py",),
    ),
    Mutant(
        "interrupt-skips-the-state-write",
        "Ctrl-C or SIGTERM during training saves the state of the step it finished before stopping",
        (Edit("gans/training/trainer.py", "                        self.save_state(step)\n                        raise TrainingInterrupted(",
              "                        raise TrainingInterrupted("),),
        ("tests/training/test_resume.py",),
    ),
    # ------------------------------------------------------------------ the documentation site
    Mutant(
        "docstring-names-a-parameter-the-signature-lacks",
        "the API reference renders every docstring: mkdocs build --strict fails on an Args entry that no "
        "parameter of the signature carries (here two parameters fused into one entry)",
        (Edit("gans/evaluation/frechet.py",
              "        mu1: mean (d,) of the first set of features.\n        sigma1: covariance (d, d) of the first set of features.\n",
              "        mu1, sigma1: mean (d,) and covariance (d, d) of the first set of features.\n"),),
        ("tests/test_docs.py",),
    ),
    # ------------------------------------------------------------------ the app path (seed 001)
    Mutant(
        "app-model-dynamic-shape",
        "every exported generator declares static shapes, [1, latent] -> [1, R, R, 3], before any invoke (here the "
        "app model's batch is left open, which leaves the converter the spatial shapes open too, and the export's "
        "own guard against an open dimension is gone)",
        (Edit("gans/export.py", "    z = keras.Input(shape=(latent,), batch_size=APP_BATCH, name=INPUT_NAME)\n",
              "    z = keras.Input(shape=(latent,), name=INPUT_NAME)\n"),
         Edit("gans/export.py", "    if any(v < 1 for shape in shapes for v in shape):\n",
              "    if False:\n")),
        ("tests/cli/test_pggan_app.py",),
    ),
    Mutant(
        "demo-unbounded-faces",
        "one demo request makes at most 64x64x64 pixels of faces (4 at 256x256)",
        (Edit("gans/demo.py", "    if n > most:\n", "    if False:\n"),),
        ("tests/cli/test_pggan_app.py",),
    ),
    Mutant(
        "grown-run-restores-every-stage",
        "a grown run restores the saved state into the layers it came from (the every-stage models cut to the "
        "saved target)",
        (Edit("gans/training/steps/pggan.py", "if r <= self._grown_from}, name)", "if r <= max(stages)}, name)"),),
        ("tests/cli/test_pggan_app.py",),
    ),
    Mutant(
        "growth-not-recorded",
        "config.json records each growth of a run",
        (Edit("gans/training/run.py", "        record[\"run\"][\"growth\"] = growth\n", "        pass\n"),),
        ("tests/cli/test_pggan_app.py",),
    ),
    Mutant(
        "resume-grows-unasked",
        "a resume without --target-resolution continues the run at its own target (the default 32 would grow it)",
        (Edit("gans/experiments/pggan.py", "        if target is not None:\n            return target\n",
              "        pass\n"),),
        ("tests/cli/test_pggan_app.py",),
    ),
    Mutant(
        "age-agreement-ignores-the-split",
        "gans age-agreement scores only the validation faces its age classifier was not trained on",
        (Edit("gans/evaluation/age.py", "for i in pick if names[i] not in seen]", "for i in pick]"),),
        ("tests/training/test_caae.py::test_age_agreement_scores_only_faces_the_classifier_never_saw",),
    ),
    Mutant(
        "attribute-term-reads-another-row",
        "the attribute-consistency term pulls each generated face toward the attributes overlaid on its own noise",
        (Edit("gans/training/steps/attribute.py", "((targets, attributes) if self.attribute_weight",
              "((targets, np.roll(attributes, 1, axis=0)) if self.attribute_weight"),),
        ("tests/training/test_attribute_gan.py::test_the_term_targets_the_attributes_each_face_s_noise_carries",),
    ),
    Mutant(
        "attribute-classifier-trains",
        "the attribute classifier stays frozen in the consistency term's generator update",
        (Edit("gans/training/steps/attribute.py", "            classifier.trainable = False  # never trained here",
              "            classifier.trainable = True  # never trained here"),),
        ("tests/training/test_attribute_gan.py::test_the_consistency_term_trains_g_alone_toward_the_overlaid_attributes",),
    ),
    Mutant(
        "projection-real-reads-another-row",
        "the projection discriminator reads each real face beside the classifier's reading of that same face",
        (Edit("gans/training/steps/attribute.py", "        return self.attribute_outputs\n",
              "        return np.roll(self.attribute_outputs, 1, axis=0)\n"),),
        ("tests/training/test_attribute_projection.py::test_real_faces_come_with_their_own_reading_and_fakes_with_their_own_overlay",),
    ),
    Mutant(
        "projection-fake-reads-another-row",
        "the projection discriminator reads each generated face beside the attributes overlaid on its own noise",
        (Edit("gans/training/steps/attribute.py", "return noise, (attributes if self.projection else None)",
              "return noise, (np.roll(attributes, 1, axis=0) if self.projection else None)"),),
        ("tests/training/test_attribute_projection.py::test_real_faces_come_with_their_own_reading_and_fakes_with_their_own_overlay",),
    ),
    # ------------------------------------------------------------------ overwrites and kept checkpoints
    Mutant(
        "claimed-folder-lets-a-used-one-through",
        "a command that owns its folder (a study) refuses a used one without --overwrite, and never deletes an "
        "earlier run's files unasked",
        (Edit("gans/io.py", "    refuse_existing([folder], option, overwrite)\n    ours = ", "    ours = "),),
        ("tests/cli/test_overwrite.py",),
    ),
    Mutant(
        "pruning-before-the-state",
        "the checkpoint the saved state is at is never pruned: pruning comes after the state is written (here it "
        "runs where the .h5 is written, and a stop before the state write leaves the state without its checkpoint)",
        (Edit(TRAINING_CALLBACKS, "        trainer.save_state(step)\n        if self.keep_last:\n",
              "        trainer.save_state(step)\n        if False:\n"),
         Edit(TRAINING_CALLBACKS,
              '        save_h5(trainer.generator, trainer.run_dir / "checkpoints" / f"generator_{step_name(step)}.h5")\n',
              '        save_h5(trainer.generator, trainer.run_dir / "checkpoints" / f"generator_{step_name(step)}.h5")\n'
              "        state = next(c for c in trainer.callbacks if isinstance(c, StateCheckpoint))\n"
              "        if state.keep_last:\n"
              '            prune_checkpoints(trainer.run_dir / "checkpoints", state.keep_last,\n'
              '                              state.keep_every * state.every if state.keep_every else None, protect=step)\n')),
        ("tests/training/test_checkpoints.py",),
    ),
    # ------------------------------------------------------------------ gans reproduce
    Mutant(
        "reproduce-redoes-finished-jobs",
        "a finished reproduce job (its job.json written) is never run again: a second call trains nothing",
        (Edit("gans/studies/reproduce.py", "    if record.is_file():\n        try:",
              "    if False:\n        try:"),),
        ("tests/studies/test_reproduce.py::test_a_finished_job_runs_once",),
    ),
    Mutant(
        "reproduce-forgets-a-killed-attempt",
        "a job's cost keeps the wall time of the attempts a kill interrupted; planted as the cost this had "
        "before: only the last attempt's",
        (Edit("gans/studies/reproduce.py", "    attempts = _interrupted_attempts(partial, log_path)\n",
              "    attempts = []\n"),),
        ("tests/studies/test_reproduce.py::test_an_interrupted_attempt_counts_in_the_cost",),
    ),
    Mutant(
        "attribute-mix-is-its-first-face",
        "a mix's asked attributes are the classifier's outputs averaged over all of its faces",
        (Edit("gans/evaluation/attributes.py", "    asked = read.reshape(n, faces_per_mix, -1).mean(axis=1)\n",
              "    asked = read.reshape(n, faces_per_mix, -1)[:, 0]\n"),),
        ("tests/training/test_attribute_gan.py::test_mixes_average_k_faces_and_one_face_is_its_own_reading",),
    ),
    Mutant(
        "attribute-agreement-overlays-the-plain-noise",
        "the plain-noise faces of the agreement measure are rendered from r itself, not from the overlaid noise",
        (Edit("gans/evaluation/attributes.py", '"_no_overlay": r}, read',
              '"_no_overlay": attribute_noise(asked, r, alpha, beta)}, read'),),
        ("tests/training/test_attribute_gan.py::test_mixes_average_k_faces_and_one_face_is_its_own_reading",),
    ),
    Mutant(
        "attribute-random-face-is-the-given-face",
        "the random-face yardstick of the agreement reads a random real face, not the mix's own given face",
        (Edit("gans/evaluation/attributes.py",
              "    random_faces = predict_attributes(classifier, faces[rng.choice(len(faces), n, replace=len(faces) < n)])\n",
              "    random_faces = np.asarray(read).reshape(n, -1, asked.shape[1])[:, 0]\n"),),
        ("tests/training/test_attribute_gan.py::test_real_face_yardsticks_a_given_face_scores_one_a_random_face_does_not",),
    ),
    Mutant(
        "markdown-cell-pipe-unescaped",
        "a '|' inside a Markdown table cell (results.md's '|eg gap|') is escaped, so it does not split the row",
        (Edit("gans/io.py", '''    return "| " + " | ".join(str(c).replace("|", "\\\\|") for c in cells) + " |"''',
              '''    return "| " + " | ".join(str(c) for c in cells) + " |"'''),),
        ("tests/studies/test_reproduce.py::test_a_pipe_inside_a_cell_does_not_split_the_results_table",),
    ),
    Mutant(
        "reproduce-verdict-ignores-the-rule",
        "a claim's verdict is its rule applied to the published value and ours",
        (Edit("gans/experiments/claims.py", "    return \"reproduced\" if c.rule.judge(c.published, ours) else \"not reproduced\"",
              "    return \"not reproduced\""),),
        ("tests/studies/test_reproduce.py::test_each_rule_kind",),
    ),
    Mutant(
        "reproduce-restarts-a-killed-training",
        "a training killed mid-run continues from its saved state (--resume), so a killed gans reproduce loses no "
        "finished steps",
        (Edit("gans/studies/reproduce.py", "                again = [\"--resume\"]  # continues from the last saved state, exactly",
              "                shutil.rmtree(folder)"),),
        ("tests/studies/test_reproduce.py::test_an_interrupted_job_continues_by_its_kind",),
    ),
    # ------------------------------------------------------------------ the seed 004 studies' protocols
    Mutant(
        "pca-fit-on-held-out-digits",
        "the PCA study rebuilds held-out digits from components fitted on the training part only (issue 26); "
        "planted as PCA fitted on the very digits it then rebuilds",
        (Edit("gans/studies/pca.py", "    models = fit_pca_generators(x_fit, y_fit, ks[-1])",
              "    models = fit_pca_generators(x_held, y_held, ks[-1])"),),
        ("tests/studies/test_study_protocols.py::test_pca_rebuilds_held_out_digits_from_components_fitted_on_the_training_part_only",),
    ),
    Mutant(
        "pca-fit-on-all-digits",
        "the PCA study rebuilds held-out digits from components fitted on the training part only; planted as the "
        "protocol this study had before: PCA fitted on every digit, the rebuilt ones included",
        (Edit("gans/studies/pca.py", "    models = fit_pca_generators(x_fit, y_fit, ks[-1])",
              "    models = fit_pca_generators(np.concatenate([x_fit, x_held]), np.concatenate([y_fit, y_held]), ks[-1])"),),
        ("tests/studies/test_study_protocols.py::test_pca_rebuilds_held_out_digits_from_components_fitted_on_the_training_part_only",),
    ),
    Mutant(
        "synthetic-control-fewer-steps",
        "the real-only control takes as many gradient steps as the mixture (issue 26); planted as the control "
        "this study had before: the real digits alone for the mixture's epochs, so fewer steps",
        (Edit("gans/studies/synthetic.py",
              "            x_alone, y_alone = repeat_to_size(x[is_real], y[is_real], len(y), seed=seed)\n",
              "            x_alone, y_alone = x[is_real], y[is_real]\n"),),
        ("tests/studies/test_study_protocols.py::test_real_only_control_takes_as_many_gradient_steps_as_the_mixture",),
    ),
)
