// A channel that sends `authorization: Bearer <token>` with every call, so
// tests and tools written before token authentication keep their call
// sites as they are.
#ifndef PLANTRAIL_TESTS_E2E_BEARER_CHANNEL_H_
#define PLANTRAIL_TESTS_E2E_BEARER_CHANNEL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "grpcpp/support/client_interceptor.h"

namespace plantrail::testing {

class BearerInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit BearerInterceptor(std::string header) : header_(std::move(header)) {}
  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                PRE_SEND_INITIAL_METADATA)) {
      auto* metadata = methods->GetSendInitialMetadata();
      if (metadata->find("authorization") == metadata->end()) {
        metadata->insert({"authorization", header_});
      }
    }
    methods->Proceed();
  }

 private:
  const std::string header_;
};

class BearerInterceptorFactory
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(std::string token)
      : header_("Bearer " + std::move(token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return new BearerInterceptor(header_);
  }

 private:
  const std::string header_;
};

// A plaintext channel to `address` whose every call carries `token`.
inline std::shared_ptr<grpc::Channel> BearerChannel(const std::string& address,
                                                    const std::string& token) {
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<BearerInterceptorFactory>(token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(),
      std::move(interceptors));
}

}  // namespace plantrail::testing

#endif  // PLANTRAIL_TESTS_E2E_BEARER_CHANNEL_H_
