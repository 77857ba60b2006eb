package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/mscli/mscli/plan"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/fixtures/images"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/testbed/docker"
)

func newImagesCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "images [scenario]",
		Short: "List the container images the docker testbed needs, and whether each is here",
		Long: `images lists what the docker testbed runs — mscli's own image (the broker, toxiproxy and
the fixtures, built FROM scratch from this binary) and a PostgreSQL image for services
with database: postgres — and whether the Docker engine has each. No registry is needed:
'mscli images build' builds them here. A docker run builds mscli's image itself when no
image of its binary is there yet; PostgreSQL's takes minutes and is built only on asking.`,
		Example: `  mscli images
  mscli images db-loss-restore
  mscli images build
  mscli images build --postgres`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var pl *plan.Plan
			if len(args) == 1 {
				s, err := findScenario(args[0])
				if err != nil {
					return err
				}
				if pl, err = s.Plan(1); err != nil {
					return err
				}
			}
			bin, _ := os.Executable()
			needs, err := docker.Needs(c.Context(), pl, docker.NeedsOptions{Mscli: images.MscliImage(version), Binary: bin})
			if err != nil {
				return runner.CouldNotRun(err)
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "IMAGE\tFOR\tPRESENT\tBUILD WITH")
			for _, n := range needs {
				present := "no"
				if n.Present {
					present = fmt.Sprintf("yes (%s, %d MiB)", n.ID, n.Size>>20)
				}
				if n.Note != "" {
					present += " — " + n.Note
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Ref, n.Role, present, n.Build)
			}
			return tw.Flush()
		},
	}
	c.AddCommand(newImagesBuildCmd())
	return c
}

func newImagesBuildCmd() *cobra.Command {
	var postgres, force bool
	var mirror string
	c := &cobra.Command{
		Use:   "build",
		Short: "Build mscli's image from this binary, and with --postgres an offline PostgreSQL image",
		Long: `build makes mscli:<version> from the running (static) binary, FROM scratch. With
--postgres it also builds ` + images.OfflinePostgres + ` with no registry: debootstrap of a
minimal Debian, Debian's postgresql package, docker import, and an entrypoint that
honours POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB like the official image (needs
root and debootstrap; about a minute). Its data directory is made by initdb at build
time, so a database container is ready in about a second. An image built by the same
recipe is kept unless --force.`,
		Example: `  mscli images build
  sudo mscli images build --postgres`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if force && !postgres {
				return runner.InvalidInput("--force rebuilds the PostgreSQL image: use it with --postgres")
			}
			progress := func(s string) { fmt.Fprintln(c.ErrOrStderr(), s) }
			bin, err := os.Executable()
			if err != nil {
				return runner.CouldNotRun(err)
			}
			img, err := docker.BuildMscliImage(c.Context(), bin, images.MscliImage(version), version, progress)
			if err != nil {
				return runner.CouldNotRun(err)
			}
			fmt.Fprintf(c.OutOrStdout(), "%s\t%d MiB\n", img.Ref, img.Size>>20)
			if postgres {
				img, err := docker.BuildPostgresImage(c.Context(), docker.PostgresBuild{Version: version, Mirror: mirror, Progress: progress, Force: force})
				if err != nil {
					return runner.CouldNotRun(err)
				}
				fmt.Fprintf(c.OutOrStdout(), "%s\t%d MiB\n", img.Ref, img.Size>>20)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&postgres, "postgres", false, "also build the offline PostgreSQL image "+images.OfflinePostgres)
	c.Flags().BoolVar(&force, "force", false, "with --postgres: build even when the image of this recipe is there")
	c.Flags().StringVar(&mirror, "mirror", "", "Debian mirror for --postgres (default "+images.Postgres.Mirror+")")
	return c
}
