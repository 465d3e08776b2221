/**
 * The suite that boots every guest image and compares with outputs recorded natively. May use every module.
 */
package org.mmulab.images;
