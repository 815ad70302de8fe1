using TSViz.Monitor.Cli;

return await MonitorCommandLine.Build(Console.Out, Console.Error).Parse(args).InvokeAsync().ConfigureAwait(false);
