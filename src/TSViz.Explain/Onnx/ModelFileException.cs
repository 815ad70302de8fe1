namespace TSViz.Explain.Onnx;

/// <summary>A model file that cannot be used: missing, not ONNX, or without what the monitor needs.</summary>
public sealed class ModelFileException : Exception
{
    public ModelFileException()
    {
    }

    public ModelFileException(string message) : base(message)
    {
    }

    public ModelFileException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
