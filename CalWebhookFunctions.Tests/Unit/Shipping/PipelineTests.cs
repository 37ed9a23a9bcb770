using CalWebhookFunctions.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace CalWebhookFunctions.Tests.Unit.Shipping;

/// <summary>
/// <c>azure-pipelines.yml</c>, parsed as YAML: it runs exactly the README's test command, publishes the function app
/// project that exists, and deploys only from main, through an environment, with the named service connection and
/// variable group.
/// </summary>
public sealed class PipelineTests
{
    private static readonly YamlMappingNode Pipeline = Load();

    [Fact]
    public void Pipeline_triggers_on_main_and_on_pull_requests_to_main()
    {
        Assert.Equal(["main"], Strings(Map(Map(Pipeline, "trigger"), "branches"), "include"));
        Assert.Equal(["main"], Strings(Map(Map(Pipeline, "pr"), "branches"), "include"));
    }

    [Fact]
    public void Build_stage_runs_exactly_the_test_command_the_README_documents()
    {
        var readme = Readme.TestCommands();
        var scripts = Steps(Stage("Build")).Select(s => Scalar(s, "script")).OfType<string>().ToList();

        var testScripts = scripts.Where(s => s.Contains("dotnet test", StringComparison.Ordinal)).ToList();
        var only = Assert.Single(testScripts);
        Assert.Equal(readme, only.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal(["dotnet test"], readme);
        // .ci/run, the local CI entry point, runs the same command.
        Assert.Equal(readme[^1], File.ReadAllLines(RepoPaths.File(".ci", "run")).Last(l => l.Trim().Length > 0).Trim());
    }

    [Fact]
    public void Build_stage_installs_the_dotnet_10_sdk_and_node_20_before_testing()
    {
        var steps = Steps(Stage("Build"));
        var testAt = steps.FindIndex(s => Scalar(s, "script") == "dotnet test");
        var dotnetAt = steps.FindIndex(s => Scalar(s, "task") == "UseDotNet@2");
        var nodeAt = steps.FindIndex(s => Scalar(s, "task") == "NodeTool@0");

        Assert.InRange(dotnetAt, 0, testAt - 1);
        Assert.InRange(nodeAt, 0, testAt - 1);
        Assert.Equal("10.x", Scalar(Map(steps[dotnetAt], "inputs"), "version"));
        Assert.Equal("20.x", Scalar(Map(steps[nodeAt], "inputs"), "versionSpec"));
    }

    [Fact]
    public void Build_stage_publishes_test_results_and_coverage_where_the_CI_run_settings_write_them()
    {
        var steps = Steps(Stage("Build"));
        var results = Map(steps.Single(s => Scalar(s, "task") == "PublishTestResults@2"), "inputs");
        var coverage = Map(steps.Single(s => Scalar(s, "task") == "PublishCodeCoverageResults@2"), "inputs");
        var settings = File.ReadAllText(RepoPaths.File("CalWebhookFunctions.Tests", "ci.runsettings"));
        var project = File.ReadAllText(RepoPaths.File("CalWebhookFunctions.Tests", "CalWebhookFunctions.Tests.csproj"));

        Assert.Equal("VSTest", Scalar(results, "testResultsFormat"));
        Assert.StartsWith("TestResults/", Scalar(results, "testResultsFiles"), StringComparison.Ordinal);
        Assert.Contains("coverage.cobertura.xml", Scalar(coverage, "summaryFileLocation"), StringComparison.Ordinal);
        Assert.Contains("<ResultsDirectory>../TestResults</ResultsDirectory>", settings, StringComparison.Ordinal);
        Assert.Contains("friendlyName=\"trx\"", settings, StringComparison.Ordinal);
        Assert.Contains("<Format>cobertura</Format>", settings, StringComparison.Ordinal);
        Assert.Contains("Condition=\"'$(TF_BUILD)' == 'True'\">$(MSBuildThisFileDirectory)ci.runsettings</RunSettingsFilePath>", project, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_stage_publishes_the_function_app_project_that_exists_and_zips_it_as_the_artifact()
    {
        var steps = Steps(Stage("Build"));
        var publish = steps.Select(s => Scalar(s, "script")).OfType<string>().Single(s => s.StartsWith("dotnet publish ", StringComparison.Ordinal));
        var arguments = publish.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var project = arguments.Single(a => a.EndsWith(".csproj", StringComparison.Ordinal));

        Assert.True(File.Exists(RepoPaths.File(project.Split('/'))), $"{project} does not exist.");
        Assert.Contains("<AzureFunctionsVersion>v4</AzureFunctionsVersion>", File.ReadAllText(RepoPaths.File(project.Split('/'))), StringComparison.Ordinal);
        Assert.Equal("Release", arguments[Array.IndexOf(arguments, "--configuration") + 1]);
        var output = arguments[Array.IndexOf(arguments, "--output") + 1];

        var zip = Map(steps.Single(s => Scalar(s, "task") == "ArchiveFiles@2"), "inputs");
        Assert.Equal(output, Scalar(zip, "rootFolderOrFile"));
        Assert.Equal("false", Scalar(zip, "includeRootFolder"));
        Assert.Equal("zip", Scalar(zip, "archiveType"));
        var artifact = Map(steps.Single(s => Scalar(s, "task") == "PublishPipelineArtifact@1"), "inputs");
        Assert.StartsWith(Scalar(artifact, "targetPath") + "/", Scalar(zip, "archiveFile"), StringComparison.Ordinal);
        Assert.Equal("$(artifactName)", Scalar(artifact, "artifact"));
    }

    [Fact]
    public void Deploy_stage_runs_only_for_main_through_an_environment_with_the_named_variable_group()
    {
        var deploy = Stage("Deploy");
        var condition = Scalar(deploy, "condition")!;
        Assert.Contains("eq(variables['Build.SourceBranch'], 'refs/heads/main')", condition, StringComparison.Ordinal);
        Assert.Contains("ne(variables['Build.Reason'], 'PullRequest')", condition, StringComparison.Ordinal);
        Assert.Equal("Build", Scalar(deploy, "dependsOn"));
        var group = Assert.Single(((YamlSequenceNode)deploy.Children[new YamlScalarNode("variables")]).Children.OfType<YamlMappingNode>());
        Assert.Equal("${{ parameters.variableGroup }}", Scalar(group, "group"));

        var job = Assert.Single(Sequence(deploy, "jobs").OfType<YamlMappingNode>());
        Assert.NotNull(Scalar(job, "deployment"));
        Assert.Equal("${{ parameters.environment }}", Scalar(job, "environment"));
        Assert.Equal(["serviceConnection", "variableGroup", "environment", "resourceGroup", "location"],
            Sequence(Pipeline, "parameters").OfType<YamlMappingNode>().Select(p => Scalar(p, "name")!));
    }

    [Fact]
    public void Deploy_stage_deploys_the_bicep_with_the_azure_cli_and_the_package_to_flex_consumption()
    {
        var steps = DeploySteps();
        var cli = Map(steps.Single(s => Scalar(s, "task") == "AzureCLI@2"), "inputs");
        var app = Map(steps.Single(s => Scalar(s, "task") == "AzureFunctionApp@2"), "inputs");

        Assert.Equal("${{ parameters.serviceConnection }}", Scalar(cli, "azureSubscription"));
        Assert.Equal("${{ parameters.serviceConnection }}", Scalar(app, "azureSubscription"));
        var script = Scalar(cli, "inlineScript")!;
        Assert.Contains("--template-file infra/main.bicep", script, StringComparison.Ordinal);
        Assert.Contains("--parameters infra/main.bicepparam", script, StringComparison.Ordinal);
        Assert.True(File.Exists(RepoPaths.File("infra", "main.bicep")));
        Assert.True(File.Exists(RepoPaths.File("infra", "main.bicepparam")));
        Assert.Equal("functionAppLinux", Scalar(app, "appType"));
        Assert.Equal("true", Scalar(app, "isFlexConsumption"));
        Assert.Equal("$(functionAppName)", Scalar(app, "appName"));
        Assert.Contains("##vso[task.setvariable variable=functionAppName]", script, StringComparison.Ordinal);
        Assert.Equal("$(Pipeline.Workspace)/$(artifactName)/$(packageFileName)", Scalar(app, "package"));
        Assert.Contains(steps, s => Scalar(s, "download") == "current" && Scalar(s, "artifact") == "$(artifactName)");
    }

    [Fact]
    public void Deploy_stage_hands_every_secret_to_the_template_through_the_environment_only()
    {
        var cli = steps();
        var environment = Map(cli, "env");
        var parameterFile = File.ReadAllText(RepoPaths.File("infra", "main.bicepparam"));
        var script = Scalar(Map(cli, "inputs"), "inlineScript")!;

        foreach (var name in new[] { "CAL_WEBHOOK_SECRET", "FORWARDING_SIGNING_SECRET", "CAL_PREVIOUS_WEBHOOK_SECRETS", "FORWARDING_PREVIOUS_SIGNING_SECRETS",
                     "CAL_API_KEY", "FORWARDING_URL" })
        {
            Assert.Equal($"$({name})", Scalar(environment, name));
            Assert.Contains($"readEnvironmentVariable('{name}'", parameterFile, StringComparison.Ordinal);
            Assert.DoesNotContain("$" + name, script.Replace("${!name", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }

        static YamlMappingNode steps() => DeploySteps().Single(s => Scalar(s, "task") == "AzureCLI@2");
    }

    private static YamlMappingNode Load()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(RepoPaths.File("azure-pipelines.yml"));
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents.Single().RootNode;
    }

    private static YamlMappingNode Stage(string name) =>
        Sequence(Pipeline, "stages").OfType<YamlMappingNode>().Single(s => Scalar(s, "stage") == name);

    private static List<YamlMappingNode> Steps(YamlMappingNode stage) =>
        [.. Sequence(Assert.Single(Sequence(stage, "jobs").OfType<YamlMappingNode>()), "steps").OfType<YamlMappingNode>()];

    private static List<YamlMappingNode> DeploySteps()
    {
        var job = Assert.Single(Sequence(Stage("Deploy"), "jobs").OfType<YamlMappingNode>());
        var deploy = Map(Map(Map(job, "strategy"), "runOnce"), "deploy");
        return [.. Sequence(deploy, "steps").OfType<YamlMappingNode>()];
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node.Children[new YamlScalarNode(key)];

    private static IEnumerable<YamlNode> Sequence(YamlMappingNode node, string key) => ((YamlSequenceNode)node.Children[new YamlScalarNode(key)]).Children;

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value?.TrimEnd('\n') : null;

    private static string[] Strings(YamlMappingNode node, string key) =>
        [.. Sequence(node, key).OfType<YamlScalarNode>().Select(s => s.Value!)];
}
