namespace TSViz.Explain.Onnx;

/// <summary>A model file that cannot be used: missing, not ONNX, or without what the monitor needs.</summary>
public sealed class ModelFileException : Exception
{
    /// <summary>An unusable model file, without details.</summary>
    public ModelFileException()
    {
    }

    /// <summary>An unusable model file; <paramref name="message"/> says what is wrong and how to fix it.</summary>
    public ModelFileException(string message) : base(message)
    {
    }

    /// <summary>An unusable model file, found so because of <paramref name="innerException"/>.</summary>
    public ModelFileException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
