using Containers.Images;
using Containers.Images.Commit;

namespace Containers.Runtime;

/// <summary>What a container made from an image offers: its changes listed (<c>diff</c>) and committed as a new image.</summary>
public sealed partial class Container
{
    /// <summary>
    /// Makes a new image of the container's image plus the container's changes (its writable layer: new and changed
    /// files, deletions as OCI whiteouts, opaque directories) as one gzip layer, with the config the container was
    /// made with (<see cref="ContainerImage.Config"/>: entrypoint, command, environment, working directory, user,
    /// labels) changed by <see cref="CommitOptions.Config"/>, and a history entry. The container's image is not
    /// changed. Mount points the runtime made (<c>/proc</c>, <c>/dev</c>, volume targets, <c>/run/secrets</c>) are
    /// left out when nothing else changed inside them, so are the <c>/etc/hosts</c> and <c>/etc/hostname</c> it wrote
    /// (as Docker leaves them out), and what volumes, tmpfs mounts and secrets hold is never in the writable layer.
    /// Owners are recorded as the container sees them (through its user namespace's maps).
    /// </summary>
    /// <param name="tag">The new image's name (<c>name:tag</c>); null for an untagged image (or <see cref="CommitOptions.Tag"/>).</param>
    /// <param name="options">Author, message and config changes; null for none.</param>
    /// <param name="pause">
    /// Whether to freeze a running container while its files are read, as <c>docker commit</c> does: true requires
    /// it (a container without a cgroup cannot be frozen and is refused), false never freezes (a file that changes
    /// while it is read fails the commit), null freezes when the container has a cgroup.
    /// </param>
    /// <param name="progress">Receives <see cref="ImageProgressPhase.Committing"/> progress; null for none.</param>
    /// <param name="cancellationToken">Cancels the commit; the store stays as it was and a frozen container is thawed.</param>
    /// <returns>The new image.</returns>
    /// <exception cref="ImageCommitException">The container was not made from an image, its image is in another store, or its changes cannot be read.</exception>
    /// <exception cref="ContainerStatusException"><paramref name="pause"/> is true and the running container has no cgroup to freeze.</exception>
    /// <example>
    /// <code>
    /// await using var box = await runtime.CreateFromImageAsync("setup", "busybox:1.36", new ImageContainerOptions { Command = ["sh", "-c", "echo ready > /etc/motd"] }, ct);
    /// await box.StartAsync(ct);
    /// await box.WaitAsync(ct);
    /// Image image = await box.CommitAsync("busybox:ready", new CommitOptions { Message = "motd", Config = new ContainerConfig { Cmd = ["cat", "/etc/motd"] } }, cancellationToken: ct);
    /// </code>
    /// </example>
    public async Task<Image> CommitAsync(
        string? tag, CommitOptions? options = null, bool? pause = null, IProgress<ImageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (store, image, upper) = await WritableLayerAsync("commit", cancellationToken).ConfigureAwait(false);
        var state = State;
        options ??= new CommitOptions();
        options = options with
        {
            Tag = tag ?? options.Tag,
            Config = Containers.Images.ImageStore.MergeConfig(image.Config, options.Config),
            UidMappings = options.UidMappings ?? state.UidMappings,
            GidMappings = options.GidMappings ?? state.GidMappings,
            CreatedBy = options.CreatedBy ?? $"containers commit {Id}",
            Excluded = RuntimeMade(upper),
        };

        var frozen = await FreezeForCommitAsync(pause, cancellationToken).ConfigureAwait(false);
        try
        {
            var committed = await store.CommitAsync(image.Digest, upper, options, progress, cancellationToken).ConfigureAwait(false);
            RuntimeLog.ContainerCommitted(_logger, Id, options.Tag ?? "<none>", committed.Digest.ToString());
            return committed;
        }
        finally
        {
            if (frozen)
            {
                // Thawed before the marker goes: a kill between the two leaves a marker whose thaw changes nothing.
                await ResumeAsync(CancellationToken.None).ConfigureAwait(false);
                _states.ClearCommitFreeze(Id);
            }
        }
    }

    /// <summary>
    /// Lists how the container's root differs from its image, as <c>docker diff</c> does: <c>A</c> for an added
    /// path, <c>C</c> for a changed one (a directory when something inside it changed), <c>D</c> for a deleted one.
    /// Mount points and the files the runtime made (<c>/etc/hosts</c>) are left out, as <see cref="CommitAsync"/> leaves them out.
    /// </summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The changes, sorted by path.</returns>
    /// <exception cref="ImageCommitException">The container was not made from an image, or its image is in another store.</exception>
    /// <example>
    /// <code>
    /// foreach (var change in await container.DiffAsync(ct)) Console.WriteLine(change); // "C /etc", "A /etc/motd", "D /bin/ls"
    /// </code>
    /// </example>
    public async Task<IReadOnlyList<FileChange>> DiffAsync(CancellationToken cancellationToken = default)
    {
        var (store, image, upper) = await WritableLayerAsync("diff", cancellationToken).ConfigureAwait(false);
        var state = State;
        return await store.DiffAsync(image.Digest, upper, RuntimeMade(upper), state.UidMappings, state.GidMappings, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The store, image and upper directory of a container made from an image, checked to belong together.</summary>
    private async Task<(ImageStore Store, ContainerImage Image, string Upper)> WritableLayerAsync(string operation, CancellationToken cancellationToken)
    {
        var state = State;
        if (state.Image is not { } image || state.ContainerDirectory is not { } directory || _runtime is null)
        {
            throw new ImageCommitException($"cannot {operation} container '{Id}': it was not made from an image, so it has no layer of its own to compare with one");
        }

        var store = await _runtime.ImagesAsync(cancellationToken).ConfigureAwait(false);
        var leases = Path.Combine(store.Root, "leases") + "/";
        if (state.LeaseFile is not { } lease || !lease.StartsWith(leases, StringComparison.Ordinal))
        {
            throw new ImageCommitException(
                $"cannot {operation} container '{Id}': its image {image.Reference} is in another store than {store.Root} ({state.LeaseFile}): open the runtime with that store (ContainerRuntimeOptions.Images, or --root)");
        }

        var upper = Path.Combine(directory, Plan.RootfsStep.UpperDirectory);
        if (!Directory.Exists(upper))
        {
            throw new ImageCommitException($"cannot {operation} container '{Id}': its writable layer {upper} is gone");
        }

        return (store, image, upper);
    }

    /// <summary>
    /// What the runtime, not the program, put in the upper directory: the mount points of the spec's mounts and the
    /// secrets' tmpfs, and the files it wrote (<c>/etc/hosts</c>).
    /// </summary>
    private IReadOnlySet<string> RuntimeMade(string upper) =>
        MountPoints.Find(upper, Spec.Mounts.Select(m => m.Destination).Append(Plan.SecretsStep.Directory), Images.OwnNetworkFiles.Paths(Spec));

    /// <summary>Freezes a running container for a commit as <paramref name="pause"/> asks; returns whether it did.</summary>
    private async Task<bool> FreezeForCommitAsync(bool? pause, CancellationToken cancellationToken)
    {
        ThawAbandonedCommit();
        var status = Status;
        if (pause == false || status != ContainerStatus.Running)
        {
            return false;
        }

        if (_cgroup is null)
        {
            return pause == true
                ? throw new ContainerStatusException(Id, "freeze", status, "it has no cgroup to freeze while its files are read: stop it first, or commit without pausing")
                : false;
        }

        // The marker goes first: a commit killed while the container is frozen leaves it for the next command to
        // find (ContainerRuntime.ThawAbandonedCommit), so no container stays frozen because of a dead commit.
        if (!_states.TryMarkCommitFreeze(Id, ProcessIdentity.Current))
        {
            throw new ContainerStatusException(Id, "freeze", status, "another commit holds it frozen while it reads its files: wait for that commit to end");
        }

        try
        {
            await PauseAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _states.ClearCommitFreeze(Id);
            throw;
        }

        return true;
    }

    /// <summary>Thaws the container if a commit that has died left it frozen, and records it as running again; returns whether it did.</summary>
    private bool ThawAbandonedCommit()
    {
        if (_runtime?.ThawAbandonedCommit(Id) != true)
        {
            return false;
        }

        Update(s => s.Status == ContainerStatus.Paused ? s with { Status = ContainerStatus.Running } : s);
        return true;
    }
}
