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
/// An IL scan of TorchSharp 0.107.0 (every method whose body, directly or through another, converts a number or
/// calls ToScalar) lists the unsafe members: the operators +, *, / and % with a C# number on either side, and
/// <c>a + b</c> on two tensors; <c>n - t</c> and <c>t - n</c>; <c>add(Tensor)</c>, <c>add(Scalar)</c> (alpha 1),
/// <c>add_</c>, <c>square()</c> (pow(2)), <c>addcdiv</c> without a value, <c>softplus</c>, <c>elu(double)</c>,
/// <c>celu</c>, and nn.functional's <c>leaky_relu</c>, <c>elu</c>, <c>celu</c>, <c>hardtanh</c>, <c>threshold</c>,
/// <c>softplus</c>, <c>softshrink</c>, <c>hardshrink</c>, <c>mish</c>, <c>softsign</c>; also <c>arange(Scalar..)</c>,
/// <c>normal</c>, <c>linalg.vector_norm</c>/<c>matrix_norm</c>, the optimizers' <c>step</c> and the tensor-to-number
/// casts (<c>ToSingle()</c>, <c>(float)t</c>, which read a temporary Scalar). <c>a - b</c> on two tensors,
/// <c>sub(Tensor)</c>, <c>mul(Tensor)</c>, <c>div(Tensor)</c>, <c>sign()</c>, <c>where</c>, <c>minimum</c>/<c>maximum</c>,
/// <c>clamp(Scalar?)</c>, <c>addmm</c> (floats) and <c>item&lt;T&gt;()</c> make none. The same scan of this project's
/// assemblies finds no implicit conversion and no call to an unsafe member (2026-12, after the subtraction fix).
/// </summary>
internal static class HeldScalars
{
    /// <summary>The integer 1, as the <c>alpha</c> of <c>add</c> (what TorchSharp's <c>a + b</c> passes).</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>
    /// The integer -1, as the <c>alpha</c> of <c>add</c> for a subtraction. <c>a.add(b, MinusOne)</c> computes exactly
    /// a - b (negation is exact); it was adopted when <c>a - b</c> was suspected of a temporary alpha, which the IL scan
    /// above later ruled out for TorchSharp 0.107. Both are safe; the kernels keep the held form.
    /// </summary>
    public static readonly Scalar MinusOne = (-1).ToScalar();

    /// <summary>The integer 2 (what TorchSharp's <c>square()</c> and <c>x / 2</c> pass).</summary>
    public static readonly Scalar Two = 2.ToScalar();
}
