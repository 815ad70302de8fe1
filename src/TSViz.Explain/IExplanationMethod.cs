namespace TSViz.Explain;

/// <summary>
/// An explanation method of the TSViz paper, known by a name (<see cref="ExplanationMethods"/> lists them all). Every
/// method runs on one <see cref="Explainer"/>, the weights of one ONNX file, and shares its thread rules: not
/// thread-safe, one caller at a time. Results are plain arrays and records; no tensor outlives a call.
/// </summary>
public interface IExplanationMethod
{
    /// <summary>The registry name, lower case with hyphens (e.g. "flip-search"); configuration lists methods by it.</summary>
    string Name { get; }
}

/// <summary>
/// A method that explains every window of a batch on its own: one result per window, in window order. Windows are
/// given as received; the method applies the model's declared preprocessing itself.
/// </summary>
/// <typeparam name="TOptions">The method's settings, a record whose defaults are the live path's (the paper's where noted).</typeparam>
/// <typeparam name="TResult">What the method says about one window.</typeparam>
public interface IExplanationMethod<in TOptions, TResult> : IExplanationMethod
    where TOptions : class
{
    /// <summary>Explains each window of <paramref name="windows"/> with <paramref name="options"/>.</summary>
    /// <returns>One result per window, in the batch's order.</returns>
    /// <exception cref="ArgumentException">The batch does not hold whole windows of the model's shape, or an option names what the model lacks.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; it is checked between steps and batch parts.</exception>
    TResult[] Explain(WindowBatch windows, TOptions options, CancellationToken cancellationToken = default);
}

/// <summary>
/// A method that explains the model rather than a window (inverse optimisation: which inputs does the model map to
/// a target?). It starts from its own seeded inputs, so it takes no windows.
/// </summary>
/// <typeparam name="TOptions">The method's settings.</typeparam>
/// <typeparam name="TResult">One result per start of the method.</typeparam>
public interface IModelExplanationMethod<in TOptions, TResult> : IExplanationMethod
    where TOptions : class
{
    /// <summary>Runs the method with <paramref name="options"/>.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; it is checked between steps.</exception>
    TResult[] Explain(TOptions options, CancellationToken cancellationToken = default);
}
