# calcnode on Debian 12, built from this source tree with the same scripts as a bare
# machine (tools/setup-deps, tools/build).
FROM debian:12
WORKDIR /opt/calcnode
COPY . .
RUN tools/setup-deps && tools/build /opt/calcnode/build && \
    apt-get clean && rm -rf /var/lib/apt/lists/*
EXPOSE 11112
ENTRYPOINT ["/opt/calcnode/build/bin/calcnode"]
CMD ["serve", "-c", "/opt/calcnode/conf/calcnode.conf", "--state-dir", "/var/lib/calcnode"]
