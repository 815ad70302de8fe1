using TorchSharp;

namespace TSViz.Explain.Runtime;

/// <summary>
/// Constant libtorch Scalars that live as long as the process, shared by every thread (a Scalar is read-only).
/// Never hand TorchSharp a C# number where it takes a <see cref="Scalar"/> (<c>x * 0.5</c>, <c>leaky_relu(x, 0.3)</c>,
/// and even <c>a + b</c>, which TorchSharp 0.107 runs as <c>a.add(b, 1)</c>): the implicit conversion creates a native
/// Scalar that only its finalizer frees, and the wrapper passes libtorch the raw handle, after which nothing keeps the
/// managed object alive. A garbage collection during the native call then frees the Scalar while libtorch reads it:
/// issue 13's "Expected false to be true" from c10::Scalar::toFloat, or silently another number when the memory has
/// been reused. Every Scalar an explanation uses is therefore one of these, a field of its owner (disposed with it),
/// or a <c>using</c> local that outlives the calls it is passed to.
/// </summary>
internal static class HeldScalars
{
    /// <summary>The integer 1, as the <c>alpha</c> of <c>add</c> (what TorchSharp's <c>a + b</c> passes).</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>
    /// The integer -1, as the <c>alpha</c> of <c>add</c> for a subtraction: TorchSharp's <c>a - b</c> is <c>a.sub(b)</c>
    /// with a temporary alpha of 1, like <c>a + b</c>; <c>a.add(b, MinusOne)</c> computes exactly a - b (negation is exact).
    /// </summary>
    public static readonly Scalar MinusOne = (-1).ToScalar();

    /// <summary>The integer 2 (what TorchSharp's <c>square()</c> and <c>x / 2</c> pass).</summary>
    public static readonly Scalar Two = 2.ToScalar();
}
