// Package measure turns raw observations into numbers: HDR latency
// histograms (one per worker, merged), latency summaries, and the tally of
// errors grouped by class and message. It knows nothing of the network.
package measure
