/**
 * The guest-image collection: {@link org.mmulab.images.ImageManifest} (images.tsv: which runs the
 * suite boots, with what arguments, environment and expected status) and
 * {@link org.mmulab.images.Images} (where bin/, expected/ and the native tracer are). The images'
 * C sources, build.sh and the native tracer live beside this module's Java code (see
 * test-images/README.md). The suites that boot the images are in the module's tests:
 * {@code ImageSuiteTest} through the CLI, and the instruction-level oracle in
 * {@code org.mmulab.images.oracle}. May use every module.
 */
package org.mmulab.images;
