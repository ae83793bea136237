// Package golden compares test output with golden files under testdata and
// rewrites them when a test binary runs with its -update flag. It is for
// tests only.
package golden
