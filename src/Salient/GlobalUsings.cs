// The core (layout and geometry, map maths, resampling, noise, selection) is below every other
// namespace: everything may use it, and it uses nothing of Salient's but SalientException.
global using Salient.Core;
