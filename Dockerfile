# smsgate in a container: built from this tree as a Debian package, then
# installed into a slim Debian image. `make docker` builds it.
#
#   docker run -p 8080:8080 -v smsgate-data:/var/lib/smsgate smsgate:0.1.0
#
# The configuration is /etc/smsgate/smsgate.yaml, written with random keys
# when the image is built (mount your own over it); the API listens on
# 0.0.0.0:8080 inside the container.
FROM debian:bookworm AS build
COPY . /src
WORKDIR /src
RUN SG_DEPS_BUILD_ONLY=1 scripts/deps.sh \
 && apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null \
 && cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release >/dev/null \
 && cmake --build /build -j "$(nproc)" --target smsgate man \
 && scripts/deb.sh /build /out

FROM debian:bookworm-slim
COPY --from=build /out/ /tmp/deb/
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends /tmp/deb/smsgate_*.deb >/dev/null \
 && rm -rf /tmp/deb /var/lib/apt/lists/* \
 && sed -i 's/listen: 127.0.0.1:8080/listen: 0.0.0.0:8080/' /etc/smsgate/smsgate.yaml \
 && mkdir -p /var/lib/smsgate && chown smsgate:smsgate /var/lib/smsgate
USER smsgate
WORKDIR /var/lib/smsgate
VOLUME /var/lib/smsgate
EXPOSE 8080
ENTRYPOINT ["smsgate"]
CMD ["serve", "-c", "/etc/smsgate/smsgate.yaml"]
