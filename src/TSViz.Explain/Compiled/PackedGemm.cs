using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace TSViz.Explain.Compiled;

/// <summary>
/// The one heavy kernel of the compiled path: C = A B (+ bias per row), where A is a small weight matrix packed in
/// blocks of <see cref="Rows"/> rows and every row of B is a slice of a source buffer at a precomputed offset. With
/// activations laid out channel x time x window (windows innermost), a 1-D convolution is this product with B's row
/// (input channel ci, tap k) starting k time steps into channel ci: an im2col without the copy. Its input gradient
/// is the same product with the transposed, flipped weights over the zero-padded output gradient.
/// </summary>
internal static unsafe class PackedGemm
{
    /// <summary>Rows of A (output rows) computed together; buffers round their row counts up to a multiple of it.</summary>
    public const int Rows = 4;

    /// <summary>
    /// Whether AVX-512 is used where the CPU has it (the default). Off, the portable <c>Vector&lt;T&gt;</c> kernel runs,
    /// as on a CPU without AVX-512: both accumulate every output in the same order, so they give the same bits.
    /// </summary>
    internal static bool UseVector512 { get; set; } = true;

    /// <summary>Rounds a row count up to a multiple of <see cref="Rows"/>.</summary>
    public static int PaddedRows(int rows) => (rows + Rows - 1) / Rows * Rows;

    /// <summary>
    /// Packs a row-major m x d matrix for <see cref="Multiply"/>: for each block of <see cref="Rows"/> rows, for each
    /// depth index, the block's values side by side (rows past m are zero).
    /// </summary>
    public static float[] Pack(Func<int, int, float> a, int m, int d)
    {
        int blocks = PaddedRows(m) / Rows;
        var packed = new float[blocks * d * Rows];
        for (int block = 0; block < blocks; block++)
        {
            for (int k = 0; k < d; k++)
            {
                for (int r = 0; r < Rows; r++)
                {
                    int row = (block * Rows) + r;
                    packed[(((block * d) + k) * Rows) + r] = row < m ? a(row, k) : 0f;
                }
            }
        }

        return packed;
    }

    /// <summary>
    /// output[r * outputStride + j] = bias[r] + sum_k A[r, k] source[offsets[k] + j] for every padded row r and
    /// j &lt; <paramref name="columns"/> (a multiple of the vector width).
    /// </summary>
    public static void Multiply(float* packed, int paddedRows, int depth, float* source, int* offsets, int columns, float* output, int outputStride, float* bias)
    {
        if (UseVector512 && Vector512.IsHardwareAccelerated && columns % Vector512<float>.Count == 0)
        {
            Multiply512(packed, paddedRows, depth, source, offsets, columns, output, outputStride, bias);
        }
        else
        {
            MultiplyVector(packed, paddedRows, depth, source, offsets, columns, output, outputStride, bias);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Multiply512(float* packed, int paddedRows, int depth, float* source, int* offsets, int columns, float* output, int outputStride, float* bias)
    {
        const int W = 16;
        for (int block = 0; block < paddedRows / Rows; block++)
        {
            float* a = packed + (block * depth * Rows);
            float* o0 = output + (block * Rows * outputStride);
            float* o1 = o0 + outputStride;
            float* o2 = o1 + outputStride;
            float* o3 = o2 + outputStride;
            var b0 = bias is null ? Vector512<float>.Zero : Vector512.Create(bias[block * Rows]);
            var b1 = bias is null ? Vector512<float>.Zero : Vector512.Create(bias[(block * Rows) + 1]);
            var b2 = bias is null ? Vector512<float>.Zero : Vector512.Create(bias[(block * Rows) + 2]);
            var b3 = bias is null ? Vector512<float>.Zero : Vector512.Create(bias[(block * Rows) + 3]);
            int j = 0;
            for (; j + (3 * W) <= columns; j += 3 * W)
            {
                Vector512<float> c00 = b0, c01 = b0, c02 = b0, c10 = b1, c11 = b1, c12 = b1;
                Vector512<float> c20 = b2, c21 = b2, c22 = b2, c30 = b3, c31 = b3, c32 = b3;
                for (int k = 0; k < depth; k++)
                {
                    float* s = source + offsets[k] + j;
                    var v0 = Vector512.Load(s);
                    var v1 = Vector512.Load(s + W);
                    var v2 = Vector512.Load(s + (2 * W));
                    float* ak = a + (k * Rows);
                    var a0 = Vector512.Create(ak[0]);
                    c00 = Vector512.FusedMultiplyAdd(a0, v0, c00);
                    c01 = Vector512.FusedMultiplyAdd(a0, v1, c01);
                    c02 = Vector512.FusedMultiplyAdd(a0, v2, c02);
                    var a1 = Vector512.Create(ak[1]);
                    c10 = Vector512.FusedMultiplyAdd(a1, v0, c10);
                    c11 = Vector512.FusedMultiplyAdd(a1, v1, c11);
                    c12 = Vector512.FusedMultiplyAdd(a1, v2, c12);
                    var a2 = Vector512.Create(ak[2]);
                    c20 = Vector512.FusedMultiplyAdd(a2, v0, c20);
                    c21 = Vector512.FusedMultiplyAdd(a2, v1, c21);
                    c22 = Vector512.FusedMultiplyAdd(a2, v2, c22);
                    var a3 = Vector512.Create(ak[3]);
                    c30 = Vector512.FusedMultiplyAdd(a3, v0, c30);
                    c31 = Vector512.FusedMultiplyAdd(a3, v1, c31);
                    c32 = Vector512.FusedMultiplyAdd(a3, v2, c32);
                }

                c00.Store(o0 + j);
                c01.Store(o0 + j + W);
                c02.Store(o0 + j + (2 * W));
                c10.Store(o1 + j);
                c11.Store(o1 + j + W);
                c12.Store(o1 + j + (2 * W));
                c20.Store(o2 + j);
                c21.Store(o2 + j + W);
                c22.Store(o2 + j + (2 * W));
                c30.Store(o3 + j);
                c31.Store(o3 + j + W);
                c32.Store(o3 + j + (2 * W));
            }

            for (; j < columns; j += W)
            {
                Vector512<float> c0 = b0, c1 = b1, c2 = b2, c3 = b3;
                for (int k = 0; k < depth; k++)
                {
                    var v = Vector512.Load(source + offsets[k] + j);
                    float* ak = a + (k * Rows);
                    c0 = Vector512.FusedMultiplyAdd(Vector512.Create(ak[0]), v, c0);
                    c1 = Vector512.FusedMultiplyAdd(Vector512.Create(ak[1]), v, c1);
                    c2 = Vector512.FusedMultiplyAdd(Vector512.Create(ak[2]), v, c2);
                    c3 = Vector512.FusedMultiplyAdd(Vector512.Create(ak[3]), v, c3);
                }

                c0.Store(o0 + j);
                c1.Store(o1 + j);
                c2.Store(o2 + j);
                c3.Store(o3 + j);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyVector(float* packed, int paddedRows, int depth, float* source, int* offsets, int columns, float* output, int outputStride, float* bias)
    {
        int w = Vector<float>.Count;
        for (int block = 0; block < paddedRows / Rows; block++)
        {
            float* a = packed + (block * depth * Rows);
            float* o0 = output + (block * Rows * outputStride);
            float* o1 = o0 + outputStride;
            float* o2 = o1 + outputStride;
            float* o3 = o2 + outputStride;
            var b0 = bias is null ? Vector<float>.Zero : new Vector<float>(bias[block * Rows]);
            var b1 = bias is null ? Vector<float>.Zero : new Vector<float>(bias[(block * Rows) + 1]);
            var b2 = bias is null ? Vector<float>.Zero : new Vector<float>(bias[(block * Rows) + 2]);
            var b3 = bias is null ? Vector<float>.Zero : new Vector<float>(bias[(block * Rows) + 3]);
            int j = 0;
            for (; j + (2 * w) <= columns; j += 2 * w)
            {
                Vector<float> c00 = b0, c01 = b0, c10 = b1, c11 = b1, c20 = b2, c21 = b2, c30 = b3, c31 = b3;
                for (int k = 0; k < depth; k++)
                {
                    float* s = source + offsets[k] + j;
                    var v0 = Vector.Load(s);
                    var v1 = Vector.Load(s + w);
                    float* ak = a + (k * Rows);
                    var a0 = new Vector<float>(ak[0]);
                    c00 = Vector.FusedMultiplyAdd(a0, v0, c00);
                    c01 = Vector.FusedMultiplyAdd(a0, v1, c01);
                    var a1 = new Vector<float>(ak[1]);
                    c10 = Vector.FusedMultiplyAdd(a1, v0, c10);
                    c11 = Vector.FusedMultiplyAdd(a1, v1, c11);
                    var a2 = new Vector<float>(ak[2]);
                    c20 = Vector.FusedMultiplyAdd(a2, v0, c20);
                    c21 = Vector.FusedMultiplyAdd(a2, v1, c21);
                    var a3 = new Vector<float>(ak[3]);
                    c30 = Vector.FusedMultiplyAdd(a3, v0, c30);
                    c31 = Vector.FusedMultiplyAdd(a3, v1, c31);
                }

                c00.Store(o0 + j);
                c01.Store(o0 + j + w);
                c10.Store(o1 + j);
                c11.Store(o1 + j + w);
                c20.Store(o2 + j);
                c21.Store(o2 + j + w);
                c30.Store(o3 + j);
                c31.Store(o3 + j + w);
            }

            for (; j < columns; j += w)
            {
                Vector<float> c0 = b0, c1 = b1, c2 = b2, c3 = b3;
                for (int k = 0; k < depth; k++)
                {
                    var v = Vector.Load(source + offsets[k] + j);
                    float* ak = a + (k * Rows);
                    c0 = Vector.FusedMultiplyAdd(new Vector<float>(ak[0]), v, c0);
                    c1 = Vector.FusedMultiplyAdd(new Vector<float>(ak[1]), v, c1);
                    c2 = Vector.FusedMultiplyAdd(new Vector<float>(ak[2]), v, c2);
                    c3 = Vector.FusedMultiplyAdd(new Vector<float>(ak[3]), v, c3);
                }

                c0.Store(o0 + j);
                c1.Store(o1 + j);
                c2.Store(o2 + j);
                c3.Store(o3 + j);
            }
        }
    }
}
