/**
 * JMH benchmarks and the guest-workload driver. May use every module.
 */
package org.mmulab.bench;
